/* A stand-in for Windows' bcryptprimitives.dll, for running the Windows build under Wine in CI.
 *
 * Rust's standard library (1.78 and later) seeds its hash maps with ProcessPrng from
 * bcryptprimitives.dll, which every Windows 10 and later ships but Debian 12's Wine 8.0 lacks:
 * without it no Rust program starts. This exports the one function, backed by advapi32's
 * RtlGenRandom (SystemFunction036), which Wine has. Built by .ci/run with the MinGW compiler and
 * placed in the Wine prefix's system32; never shipped. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk)) {
            return FALSE;
        }
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
