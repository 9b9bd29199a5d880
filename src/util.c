/* util.c -- under construction */
#include "spin.h"
