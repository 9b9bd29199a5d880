/* modelio.c -- under construction */
#include "spin.h"
