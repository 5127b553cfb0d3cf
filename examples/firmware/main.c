/* main.c -- a kwcc model on a bare-metal Cortex-M: one inference on a fixed input.
 *
 * The model (model.c and model.h, written by kwcc --target generic --name model) runs on
 * the input embedded in fw_input.h (generated from a raw float32 file by build.sh), with a
 * workspace the application owns: a static buffer of MODEL_WORKSPACE_BYTES, the model
 * compiled with -DKWCC_NO_STATIC_WORKSPACE. No heap, no stdio: the results go out through
 * semihosting (QEMU's -semihosting, or a debug probe): the top class and the output's
 * checksum on the console, the raw outputs to the host file kwfw_out.bin, and the stack
 * the inference used. */
#include <string.h>

#include "fw.h"
#include "fw_input.h"
#include "model.h"

typedef char fw_input_matches_model[sizeof fw_input.f == MODEL_INPUT_SIZE * sizeof(float) ? 1 : -1];

static union {
    unsigned char b[MODEL_WORKSPACE_BYTES];
    float align;
} workspace __attribute__((aligned(64)));
static float output[MODEL_OUTPUT_SIZE];

void fw_puts(const char *s)
{
    fw_semihost(0x04, s); /* SYS_WRITE0 */
}

static void put_num(const char *label, unsigned long v, int hex, const char *end)
{
    char buf[16];
    int k = (int)sizeof buf - 1;
    buf[k] = 0;
    do {
        unsigned d = (unsigned)(v % (hex ? 16 : 10));
        buf[--k] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v /= hex ? 16 : 10;
    } while (v && k > 2);
    if (hex) {
        buf[--k] = 'x';
        buf[--k] = '0';
    }
    fw_puts(label);
    fw_puts(buf + k);
    fw_puts(end);
}

/* The outputs as a raw little-endian float32 file on the host (SYS_OPEN, SYS_WRITE). */
static int write_host_file(const char *name, const void *data, unsigned long len)
{
    unsigned long open_args[3] = {(unsigned long)name, 5 /* "wb" */, (unsigned long)strlen(name)};
    int fd = fw_semihost(0x01, open_args);
    if (fd < 0)
        return -1;
    unsigned long write_args[3] = {(unsigned long)fd, (unsigned long)data, len};
    int left = fw_semihost(0x05, write_args);
    unsigned long close_args[1] = {(unsigned long)fd};
    fw_semihost(0x02, close_args);
    return left == 0 ? 0 : -1;
}

int main(void)
{
    if (model_run(fw_input.f, output, workspace.b) != 0) {
        fw_puts("kwfw: the model failed\n");
        return 1;
    }
    unsigned long top = 0, sum = 0;
    for (unsigned long i = 0; i < MODEL_OUTPUT_SIZE; i++) {
        unsigned long bits;
        memcpy(&bits, &output[i], sizeof bits < sizeof output[i] ? sizeof bits : sizeof output[i]);
        sum = (sum * 31u + (bits & 0xffffffffUL)) & 0xffffffffUL;
        if (output[i] > output[top])
            top = i;
    }
    put_num("kwfw: top class ", top, 0, "\n");
    put_num("kwfw: output checksum ", sum, 1, "\n");
    put_num("kwfw: workspace ", MODEL_WORKSPACE_BYTES, 0, " bytes, ");
    put_num("stack used ", fw_stack_used(), 0, " bytes\n");
    if (write_host_file("kwfw_out.bin", output, sizeof output) == 0)
        fw_puts("kwfw: outputs written to kwfw_out.bin\n");
    return 0;
}
