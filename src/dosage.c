/* dosage.c -- under construction */
#include "spin.h"
