/* writer.c -- under construction */
#include "spin.h"
