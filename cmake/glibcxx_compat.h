// Force-included into every C++ translation unit of the wheel builds
// (-DDAGSTER_DMS_GLIBCXX_COMPAT=ON, set by scripts/build_wheels.sh).
//
// GCC 12's libstdc++ gave std::condition_variable::wait a second symbol version, GLIBCXX_3.4.30,
// and code compiled with its headers references that one. It is the only GLIBCXX_3.4.30 symbol
// the wheels use, and it alone would raise their floor from manylinux_2_34 (RHEL 9, Amazon
// Linux 2023: libstdc++ 3.4.29) to manylinux_2_35. The older GLIBCXX_3.4.11 version differs only
// in how it reacts to pthread_cancel, which the product never calls, so references are bound to
// it instead.
#pragma once
#include <cstddef>  // defines _GLIBCXX_RELEASE when the standard library is libstdc++

#if defined(__linux__) && defined(_GLIBCXX_RELEASE) && _GLIBCXX_RELEASE >= 12
__asm__(
    ".symver _ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE,"
    "_ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE@GLIBCXX_3.4.11");
#endif
