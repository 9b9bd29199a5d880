/* stats.c -- under construction */
#include "spin.h"
