/* match.c -- under construction */
#include "spin.h"
