/* gmap.c -- under construction */
#include "spin.h"
