/* neighbors.c -- under construction */
#include "spin.h"
