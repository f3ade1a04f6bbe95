#include "clp_ext.h"
