#include "trace/trace-hw_misc_lpu_v3.h"
