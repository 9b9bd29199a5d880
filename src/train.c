/* train.c -- under construction */
#include "spin.h"
