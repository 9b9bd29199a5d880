/* nn.c -- under construction */
#include "spin.h"
