/* cmd_score.c -- under construction */
#include "cli.h"
