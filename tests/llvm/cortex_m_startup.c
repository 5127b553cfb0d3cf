/* cortex_m_startup.c -- the least a Cortex-M7 needs to run tests/llvm/driver.c under
 * `qemu-system-arm -M mps2-an500` (an MPS2 board with a Cortex-M7): the vector table (initial
 * stack pointer, reset handler), the FPU switched on, then newlib's _start from rdimon-crt0
 * (bss, stdio through semihosting, argv from -semihosting-config arg=..., main, exit). Linked
 * with cortex_m.ld by object.sh. */
extern void _start(void);
extern char __stack_top[];

static void reset(void)
{
    *(volatile unsigned *)0xE000ED88 |= 0xFu << 20; /* CPACR: CP10 and CP11 (the FPU) full access */
    __asm__ volatile("dsb\n\tisb");
    _start();
    for (;;) {
    }
}

static void fault(void)
{
    for (;;) { /* a fault stops the program: the test's timeout reports it */
    }
}

__attribute__((section(".vectors"), used)) static void *const vectors[16] = {
    __stack_top, (void *)reset, (void *)fault, (void *)fault, (void *)fault, (void *)fault, (void *)fault,
};
