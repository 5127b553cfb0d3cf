/* fw.h -- the bare-metal example's startup and semihosting helpers (startup.c, main.c). */
#ifndef FW_H
#define FW_H

int fw_semihost(int op, const void *arg); /* one semihosting call (bkpt 0xab); -1 without */
void fw_semihost_exit(int ok);            /* ends the run: status 0 if ok, 1 otherwise */
unsigned long fw_stack_used(void);        /* bytes of stack touched since reset */
void fw_puts(const char *s);              /* main.c: text to the debugger's console */

#endif
