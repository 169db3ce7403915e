// Intentionally empty: every CPosix function is static inline in the header.
#include "CPosix.h"
