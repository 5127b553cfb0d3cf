/* driver.c -- a test program around an object kwcc wrote with --target-triple (and --name m):
 *
 *   ./prog INPUT.bin... OUTPUT.bin
 *
 * reads the model's inputs back to back from the input files (raw little-endian float32),
 * runs m_run with the object's static workspace and writes all outputs back to back into
 * OUTPUT.bin. Built by tests/llvm/object.sh with the host's cc or aarch64-linux-gnu-gcc, the
 * object's header given with -include. */
#include <stdio.h>

#ifndef M_INPUT_SIZE
#error "compile with -include NAME.h, the header kwcc wrote next to the object (--name m)"
#endif

static float x[M_INPUT_SIZE > 0 ? M_INPUT_SIZE : 1], y[M_OUTPUT_SIZE];

int main(int argc, char **argv)
{
    long n = 0;
    if (argc < 2) {
        fprintf(stderr, "usage: %s INPUT.bin... OUTPUT.bin\n", argv[0]);
        return 2;
    }
    for (int i = 1; i + 1 < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            fprintf(stderr, "%s: cannot open %s\n", argv[0], argv[i]);
            return 1;
        }
        n += (long)fread(x + n, sizeof(float), (size_t)(M_INPUT_SIZE + 1 - n), f);
        fclose(f);
    }
    if (n != M_INPUT_SIZE) {
        fprintf(stderr, "%s: %ld input floats, the model takes %ld\n", argv[0], n, (long)M_INPUT_SIZE);
        return 1;
    }
    if (m_run(x, y, NULL) != 0) {
        fprintf(stderr, "%s: m_run failed\n", argv[0]);
        return 1;
    }
    FILE *f = fopen(argv[argc - 1], "wb");
    if (!f || fwrite(y, sizeof(float), M_OUTPUT_SIZE, f) != M_OUTPUT_SIZE || fclose(f) != 0) {
        fprintf(stderr, "%s: cannot write %s\n", argv[0], argv[argc - 1]);
        return 1;
    }
    return 0;
}
