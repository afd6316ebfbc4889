// Exercises the kiln syscall shim under plain TCG/KVM: jumping from user mode to
// entry_SYSCALL_64 (with RCX/R11 set up the way SYSCALL would) raises exactly the #PF the shim
// handles (CR2 == RIP == entry_SYSCALL_64, user, present). Usage: shimtest <hex address>
// Built and run by guest/check-shim.
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static unsigned long entry;

static long shim(long nr, long a1, long a2, long a3) {
    long ret;
    asm volatile("lea 1f(%%rip), %%rcx\n\t"
                 "pushfq\n\t"
                 "pop %%r11\n\t"
                 "jmp *%[entry]\n"
                 "1:"
                 : "=a"(ret)
                 : "a"(nr), "D"(a1), "S"(a2), "d"(a3), [entry] "r"(entry)
                 : "rcx", "r11", "memory");
    return ret;
}

// Like shim() but with a kernel-space return address: must not become a syscall (SIGSEGV).
static void shim_bad_rcx(void) {
    asm volatile("mov %[entry], %%rcx\n\t"
                 "pushfq\n\t"
                 "pop %%r11\n\t"
                 "mov $39, %%eax\n\t"
                 "jmp *%[entry]\n"
                 :
                 : [entry] "r"(entry)
                 : "rax", "rcx", "r11", "memory");
}

static volatile int got_signal;
static void on_usr1(int sig) { got_signal = sig; }

static int failures;
#define CHECK(cond, ...)                                                                      \
    do {                                                                                      \
        if (cond) {                                                                           \
            printf("ok   " __VA_ARGS__);                                                      \
        } else {                                                                              \
            printf("FAIL " __VA_ARGS__);                                                      \
            failures++;                                                                       \
        }                                                                                     \
        printf("\n");                                                                         \
    } while (0)

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    entry = strtoul(argv[1], NULL, 16);
    setvbuf(stdout, NULL, _IONBF, 0);

    static const char msg[] = "shim: hello via entry_SYSCALL_64\n";
    long n = shim(SYS_write, 1, (long)msg, sizeof msg - 1);
    CHECK(n == (long)sizeof msg - 1, "write returned %ld", n);

    long pid = shim(SYS_getpid, 0, 0, 0);
    CHECK(pid == getpid(), "getpid %ld == %d", pid, getpid());

    long bad = shim(999, 0, 0, 0);
    CHECK(bad == -ENOSYS, "unknown syscall returns %ld (-ENOSYS = %d)", bad, -ENOSYS);

    struct timespec ts = {0, 20 * 1000 * 1000};
    long s = shim(SYS_nanosleep, (long)&ts, 0, 0);
    CHECK(s == 0, "nanosleep (schedules) returned %ld", s);

    signal(SIGUSR1, on_usr1);
    long k = shim(SYS_kill, getpid(), SIGUSR1, 0);
    CHECK(k == 0 && got_signal == SIGUSR1, "kill self: ret %ld, handler ran %d", k, got_signal);

    // fork: the child returns from the shimmed syscall with 0 at the same place.
    long child = shim(SYS_fork, 0, 0, 0);
    if (child == 0) {
        shim(SYS_exit_group, 42, 0, 0);
        _exit(1);
    }
    int st = 0;
    waitpid((pid_t)child, &st, 0);
    CHECK(child > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 42, "fork child %ld status %#x", child, st);

    // Flags survive: DF set before the syscall is set after it (and cleared again).
    unsigned long flags;
    asm volatile("std");
    shim(SYS_getpid, 0, 0, 0);
    asm volatile("pushfq; pop %0; cld" : "=r"(flags));
    CHECK(flags & 0x400, "DF kept across the shim (rflags %#lx)", flags);

    pid_t p = fork();
    if (p == 0) {
        shim_bad_rcx();
        _exit(0);
    }
    waitpid(p, &st, 0);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV, "kernel RCX -> SIGSEGV (status %#x)", st);

    printf("shimtest: %s\n", failures ? "FAILED" : "PASSED");
    return failures ? 1 : 0;
}
