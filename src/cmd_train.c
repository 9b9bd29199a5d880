/* cmd_train.c -- under construction */
#include "cli.h"
