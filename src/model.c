/* model.c -- under construction */
#include "spin.h"
