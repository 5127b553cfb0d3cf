/* startup.c -- the least a Cortex-M needs to run the model bare metal, and semihosting.
 *
 * The vector table (initial stack pointer, reset and fault handlers), a reset handler that
 * copies .data, clears .bss, enables the FPU (CP10/CP11) and paints the stack so main can
 * measure how much of it the model used, then calls main and reports its status through
 * semihosting (SYS_EXIT), which QEMU (-semihosting) and debug probes implement. Build with
 * -DFW_NO_SEMIHOSTING for a board without a debugger attached: output is dropped and the
 * core sleeps at the end instead. */
#include "fw.h"

extern unsigned long _sidata[], _sdata[], _edata[], _sbss[], _ebss[], _sstack[], _estack[];
int main(void);

#define FW_STACK_PAINT 0xdeadbeefUL

void fw_semihost_exit(int ok)
{
#ifndef FW_NO_SEMIHOSTING
    /* SYS_EXIT: ADP_Stopped_ApplicationExit, or ADP_Stopped_RunTimeErrorUnknown */
    fw_semihost(0x18, (const void *)(ok ? 0x20026UL : 0x20023UL));
#else
    (void)ok;
#endif
    for (;;)
        __asm__ volatile("wfi");
}

#ifndef FW_NO_SEMIHOSTING
int fw_semihost(int op, const void *arg)
{
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}
#else
int fw_semihost(int op, const void *arg)
{
    (void)op;
    (void)arg;
    return -1;
}
#endif

unsigned long fw_stack_used(void)
{
    const unsigned long *p = _sstack;
    while (p < _estack && *p == FW_STACK_PAINT)
        p++;
    return (unsigned long)((const char *)_estack - (const char *)p);
}

void Reset_Handler(void);
void Default_Handler(void);

void Reset_Handler(void)
{
    unsigned long *s = _sidata, *d = _sdata;
    while (d < _edata)
        *d++ = *s++;
    for (d = _sbss; d < _ebss; d++)
        *d = 0;
    /* CPACR: full access to CP10 and CP11, the FPU */
    *(volatile unsigned long *)0xE000ED88UL |= 0xFUL << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    /* paint the stack below the current frame (this function's few words stay unpainted) */
    {
        volatile unsigned long *p = _sstack;
        unsigned long here = (unsigned long)&s;
        while ((unsigned long)p + 256 < here)
            *p++ = FW_STACK_PAINT;
    }
    fw_semihost_exit(main() == 0);
}

void Default_Handler(void)
{
    fw_puts("kwfw: fault\n");
    fw_semihost_exit(0);
}

/* The vector table: the initial stack pointer, then the handlers (reset, NMI, HardFault,
 * MemManage, BusFault, UsageFault); the linker script puts it at address 0. */
typedef struct FwVectors {
    unsigned long *sp;
    void (*handler[6])(void);
} FwVectors;

__attribute__((section(".isr_vector"), used)) const FwVectors fw_vectors = {
    _estack, {Reset_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler}};
