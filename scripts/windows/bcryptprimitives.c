/* Wine 8.0 lacks bcryptprimitives.dll, which Rust's std (>= 1.78) imports for
 * ProcessPrng: every Rust .exe dies at load without it. This stand-in exports
 * ProcessPrng and fills the buffer through advapi32's RtlGenRandom
 * (SystemFunction036), at most 0x7fffffff bytes per call. Only for wine; real
 * Windows has the DLL. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x7fffffff ? 0x7fffffff : (ULONG)len;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
