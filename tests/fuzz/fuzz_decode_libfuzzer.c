/* libFuzzer entry point for the decoder (not run in CI; built only with clang and
 * -fsanitize=fuzzer, see tests/fuzz/CMakeLists.txt).  The first input byte picks the
 * mode; the rest is decoded.  Checks the decoder's contract (cpu/decode.h): a length
 * of 1..15 within the bytes given, or DECODE_NEED_MORE / DECODE_TOO_LONG, and a bound
 * handler.  Run:  fuzz_decode_libfuzzer -max_total_time=600 CORPUS_DIR
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/decode.h"
#include "cpu/insn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    enum cpu_mode mode = (enum cpu_mode)(data[0] & 3);
    const uint8_t *b = data + 1;
    unsigned avail = (unsigned)(size - 1 > 32 ? 32 : size - 1);
    struct insn i;
    int r = decode_insn(&i, b, avail, mode, NULL);
    if (r > 0 && ((unsigned)r > avail || r > INSN_MAX_LEN || !i.fn || i.len != r))
        abort();
    if (r < DECODE_TOO_LONG)
        abort();
    if (r == DECODE_TOO_LONG && !i.fn)
        abort();
    return 0;
}
