// kvm-box selftest: checks that /dev/kvm inside the box really runs guests.
//
// Build on the host:  gcc -O2 -static -pthread -o selftest selftest.c
// Run in the box:     scripts/kvm-box/run ./selftest [bench-iterations [alarm-seconds]]
//
// Tests
//   1. real mode: `out dx,al` x3 to 0x3f8 then `hlt`  -> 3x KVM_EXIT_IO, KVM_EXIT_HLT
//   2. long mode (4-level paging, 2 MiB identity pages, 64-bit CS), with
//      KVM_SET_CPUID2 from KVM_GET_SUPPORTED_CPUID: 64-bit arithmetic,
//      `out dx,al`/`out dx,eax`, in-guest `cpuid`, a RAM store and a push
//      checked from the host, an MMIO store -> KVM_EXIT_MMIO, an MMIO load
//      (value supplied by the host), then `hlt` -> KVM_EXIT_HLT.
//   3. two vCPUs running concurrently in two threads, with the in-kernel
//      irqchip + PIT (so HLT does not exit: the guests end with an OUT).
//   4. bench: N `out` exits (round trip to user space) and N `cpuid`
//      exits (handled in the kernel), reported in microseconds per exit.
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static int failures;
#define CHECK(cond, ...)                                                 \
    do {                                                                 \
        if (!(cond)) {                                                   \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);         \
            fprintf(stderr, __VA_ARGS__);                                \
            fprintf(stderr, "\n");                                       \
            failures++;                                                  \
            return -1;                                                   \
        }                                                                \
    } while (0)

static int kvm_fd;
static long run_size;

static const char *exit_name(uint32_t r) {
    switch (r) {
    case KVM_EXIT_UNKNOWN: return "UNKNOWN";
    case KVM_EXIT_IO: return "IO";
    case KVM_EXIT_HLT: return "HLT";
    case KVM_EXIT_MMIO: return "MMIO";
    case KVM_EXIT_SHUTDOWN: return "SHUTDOWN";
    case KVM_EXIT_FAIL_ENTRY: return "FAIL_ENTRY";
    case KVM_EXIT_INTERNAL_ERROR: return "INTERNAL_ERROR";
    default: return "?";
    }
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

struct vm {
    int fd;
    uint8_t *mem;
    size_t mem_size;
};

struct vcpu {
    int fd;
    struct kvm_run *run;
};

static int vm_create(struct vm *vm, size_t mem_size, int irqchip) {
    vm->fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
    CHECK(vm->fd >= 0, "KVM_CREATE_VM: %s", strerror(errno));
    if (irqchip) {
        CHECK(ioctl(vm->fd, KVM_SET_TSS_ADDR, 0xfffbd000UL) == 0, "KVM_SET_TSS_ADDR: %s", strerror(errno));
        uint64_t ident = 0xfffbc000UL;
        CHECK(ioctl(vm->fd, KVM_SET_IDENTITY_MAP_ADDR, &ident) == 0, "KVM_SET_IDENTITY_MAP_ADDR: %s", strerror(errno));
        CHECK(ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0) == 0, "KVM_CREATE_IRQCHIP: %s", strerror(errno));
        struct kvm_pit_config pit = {.flags = KVM_PIT_SPEAKER_DUMMY};
        CHECK(ioctl(vm->fd, KVM_CREATE_PIT2, &pit) == 0, "KVM_CREATE_PIT2: %s", strerror(errno));
    }
    vm->mem_size = mem_size;
    vm->mem = mmap(NULL, mem_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    CHECK(vm->mem != MAP_FAILED, "mmap: %s", strerror(errno));
    struct kvm_userspace_memory_region region = {
        .slot = 0, .flags = 0, .guest_phys_addr = 0, .memory_size = mem_size,
        .userspace_addr = (uint64_t)(uintptr_t)vm->mem};
    CHECK(ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &region) == 0, "KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
    return 0;
}

static void vm_destroy(struct vm *vm) {
    munmap(vm->mem, vm->mem_size);
    close(vm->fd);
}

static int vcpu_create(struct vm *vm, struct vcpu *c, int id) {
    c->fd = ioctl(vm->fd, KVM_CREATE_VCPU, id);
    CHECK(c->fd >= 0, "KVM_CREATE_VCPU: %s", strerror(errno));
    c->run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0);
    CHECK(c->run != MAP_FAILED, "mmap kvm_run: %s", strerror(errno));
    return 0;
}

static void vcpu_destroy(struct vcpu *c) {
    munmap(c->run, run_size);
    close(c->fd);
}

static int vcpu_run(struct vcpu *c) {
    int r;
    do {
        r = ioctl(c->fd, KVM_RUN, 0);
    } while (r < 0 && (errno == EINTR || errno == EAGAIN));
    CHECK(r == 0, "KVM_RUN: %s", strerror(errno));
    return 0;
}

static void dump_exit(struct vcpu *c) {
    struct kvm_regs regs;
    ioctl(c->fd, KVM_GET_REGS, &regs);
    fprintf(stderr, "  exit_reason=%u (%s) rip=0x%llx", c->run->exit_reason, exit_name(c->run->exit_reason),
            (unsigned long long)regs.rip);
    if (c->run->exit_reason == KVM_EXIT_FAIL_ENTRY)
        fprintf(stderr, " hw_reason=0x%llx", (unsigned long long)c->run->fail_entry.hardware_entry_failure_reason);
    if (c->run->exit_reason == KVM_EXIT_INTERNAL_ERROR)
        fprintf(stderr, " suberror=%u", c->run->internal.suberror);
    fprintf(stderr, "\n");
}

// Expect an 8-bit OUT to `port` carrying `val`.
static int expect_out(struct vcpu *c, uint16_t port, int size, uint32_t val) {
    if (vcpu_run(c)) return -1;
    struct kvm_run *r = c->run;
    if (r->exit_reason != KVM_EXIT_IO) dump_exit(c);
    CHECK(r->exit_reason == KVM_EXIT_IO, "expected KVM_EXIT_IO, got %u (%s)", r->exit_reason, exit_name(r->exit_reason));
    CHECK(r->io.direction == KVM_EXIT_IO_OUT && r->io.port == port && r->io.size == size && r->io.count == 1,
          "bad io exit dir=%u port=0x%x size=%u count=%u", r->io.direction, r->io.port, r->io.size, r->io.count);
    uint32_t got = 0;
    memcpy(&got, (uint8_t *)r + r->io.data_offset, size);
    CHECK(got == val, "io data 0x%x, expected 0x%x", got, val);
    return 0;
}

static int expect_hlt(struct vcpu *c) {
    if (vcpu_run(c)) return -1;
    if (c->run->exit_reason != KVM_EXIT_HLT) dump_exit(c);
    CHECK(c->run->exit_reason == KVM_EXIT_HLT, "expected KVM_EXIT_HLT, got %u (%s)", c->run->exit_reason,
          exit_name(c->run->exit_reason));
    return 0;
}

// ---------------------------------------------------------------- real mode
static int test_real_mode(void) {
    struct vm vm;
    struct vcpu c;
    if (vm_create(&vm, 0x10000, 0) || vcpu_create(&vm, &c, 0)) return -1;
    static const uint8_t code[] = {
        0xba, 0xf8, 0x03, // mov dx, 0x3f8
        0xb0, 'K',        // mov al, 'K'
        0xee,             // out dx, al
        0xb0, 'V',        // mov al, 'V'
        0xee,             // out dx, al
        0xb0, 'M',        // mov al, 'M'
        0xee,             // out dx, al
        0xf4,             // hlt
    };
    memcpy(vm.mem + 0x1000, code, sizeof code);
    struct kvm_sregs sregs;
    CHECK(ioctl(c.fd, KVM_GET_SREGS, &sregs) == 0, "KVM_GET_SREGS: %s", strerror(errno));
    sregs.cs.base = 0;
    sregs.cs.selector = 0;
    CHECK(ioctl(c.fd, KVM_SET_SREGS, &sregs) == 0, "KVM_SET_SREGS: %s", strerror(errno));
    struct kvm_regs regs = {.rip = 0x1000, .rflags = 0x2};
    CHECK(ioctl(c.fd, KVM_SET_REGS, &regs) == 0, "KVM_SET_REGS: %s", strerror(errno));
    if (expect_out(&c, 0x3f8, 1, 'K') || expect_out(&c, 0x3f8, 1, 'V') || expect_out(&c, 0x3f8, 1, 'M') ||
        expect_hlt(&c))
        return -1;
    vcpu_destroy(&c);
    vm_destroy(&vm);
    printf("ok 1 real mode: 3x KVM_EXIT_IO (K,V,M) + KVM_EXIT_HLT\n");
    return 0;
}

// ---------------------------------------------------------------- long mode
#define PML4 0x2000
#define PDPT 0x3000
#define PD 0x4000
#define GDT 0x500
#define STACK_TOP 0x80000
#define MMIO_ADDR 0x10000000ULL // not backed by a memslot

static void setup_long_mode_mem(struct vm *vm) {
    uint64_t *pml4 = (uint64_t *)(vm->mem + PML4);
    uint64_t *pdpt = (uint64_t *)(vm->mem + PDPT);
    uint64_t *pd = (uint64_t *)(vm->mem + PD);
    pml4[0] = PDPT | 3;             // present | rw
    pdpt[0] = PD | 3;
    for (int i = 0; i < 512; i++)   // identity map the first 1 GiB with 2 MiB pages
        pd[i] = ((uint64_t)i << 21) | 0x83; // present | rw | PS
    uint64_t *gdt = (uint64_t *)(vm->mem + GDT);
    gdt[0] = 0;
    gdt[1] = 0x00af9b000000ffffULL; // 0x08: 64-bit code, L=1, DPL0
    gdt[2] = 0x00cf93000000ffffULL; // 0x10: data
}

static int setup_long_mode_vcpu(struct vcpu *c, uint64_t rip, uint64_t rsp) {
    struct kvm_sregs s;
    CHECK(ioctl(c->fd, KVM_GET_SREGS, &s) == 0, "KVM_GET_SREGS: %s", strerror(errno));
    struct kvm_segment code = {.base = 0, .limit = 0xffffffff, .selector = 0x08, .type = 11, .present = 1,
                               .dpl = 0, .db = 0, .s = 1, .l = 1, .g = 1};
    struct kvm_segment data = {.base = 0, .limit = 0xffffffff, .selector = 0x10, .type = 3, .present = 1,
                               .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1};
    s.cs = code;
    s.ds = s.es = s.fs = s.gs = s.ss = data;
    s.gdt.base = GDT;
    s.gdt.limit = 3 * 8 - 1;
    s.cr3 = PML4;
    s.cr4 = (1 << 5) | (1 << 9) | (1 << 10);       // PAE | OSFXSR | OSXMMEXCPT
    s.cr0 = (1u << 0) | (1u << 1) | (1u << 4) | (1u << 5) | (1u << 16) | (1u << 31); // PE MP ET NE WP PG
    s.efer = (1 << 8) | (1 << 10);                  // LME | LMA
    CHECK(ioctl(c->fd, KVM_SET_SREGS, &s) == 0, "KVM_SET_SREGS (long mode): %s", strerror(errno));
    struct kvm_regs regs = {.rip = rip, .rsp = rsp, .rflags = 0x2};
    CHECK(ioctl(c->fd, KVM_SET_REGS, &regs) == 0, "KVM_SET_REGS: %s", strerror(errno));
    return 0;
}

static int set_cpuid(struct vcpu *c) {
    int n = 256;
    struct kvm_cpuid2 *cpuid = calloc(1, sizeof *cpuid + n * sizeof(struct kvm_cpuid_entry2));
    cpuid->nent = n;
    CHECK(ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) == 0, "KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
    CHECK(ioctl(c->fd, KVM_SET_CPUID2, cpuid) == 0, "KVM_SET_CPUID2: %s", strerror(errno));
    free(cpuid);
    return 0;
}

static int test_long_mode(void) {
    struct vm vm;
    struct vcpu c;
    if (vm_create(&vm, 2 << 20, 0) || vcpu_create(&vm, &c, 0) || set_cpuid(&c)) return -1;
    setup_long_mode_mem(&vm);
    static const uint8_t code[] = {
        0x66, 0xba, 0xf8, 0x03,                                     // mov dx, 0x3f8
        0x48, 0xb8, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, // mov rax, 0x1122334455667788
        0xee,                                                       // out dx, al        (0x88)
        0x48, 0xc1, 0xe8, 0x20,                                     // shr rax, 32
        0xef,                                                       // out dx, eax       (0x11223344)
        0x48, 0x89, 0x04, 0x25, 0x00, 0x50, 0x00, 0x00,             // mov [0x5000], rax (RAM)
        0x50,                                                       // push rax (stack)
        0x31, 0xc0,                                                 // xor eax, eax
        0x0f, 0xa2,                                                 // cpuid (leaf 0, in-kernel)
        0x89, 0xd8,                                                 // mov eax, ebx ("Auth"/"Genu")
        0x66, 0xba, 0xf8, 0x03,                                     // mov dx, 0x3f8 (cpuid clobbered edx)
        0xef,                                                       // out dx, eax
        0x48, 0xc7, 0xc1, 0x00, 0x00, 0x00, 0x10,                   // mov rcx, 0x10000000
        0xc7, 0x01, 0xef, 0xbe, 0xad, 0xde,                         // mov dword [rcx], 0xdeadbeef (MMIO write)
        0x8b, 0x01,                                                 // mov eax, [rcx] (MMIO read)
        0xef,                                                       // out dx, eax (echo MMIO value)
        0xf4,                                                       // hlt
    };
    memcpy(vm.mem + 0x1000, code, sizeof code);
    if (setup_long_mode_vcpu(&c, 0x1000, STACK_TOP)) return -1;

    if (expect_out(&c, 0x3f8, 1, 0x88) || expect_out(&c, 0x3f8, 4, 0x11223344)) return -1;
    // cpuid leaf 0 ebx: vendor string first 4 chars
    if (vcpu_run(&c)) return -1;
    CHECK(c.run->exit_reason == KVM_EXIT_IO && c.run->io.size == 4, "expected cpuid result on port");
    uint32_t vendor;
    memcpy(&vendor, (uint8_t *)c.run + c.run->io.data_offset, 4);
    CHECK(vendor == 0x68747541 /*Auth*/ || vendor == 0x756e6547 /*Genu*/ || vendor == 0x6f677948 /*Hygo*/,
          "unexpected CPUID vendor 0x%x", vendor);
    CHECK(*(uint32_t *)(vm.mem + 0x5000) == 0x11223344, "guest RAM store not visible: 0x%x",
          *(uint32_t *)(vm.mem + 0x5000));
    CHECK(*(uint64_t *)(vm.mem + STACK_TOP - 8) == 0x11223344, "push not visible");
    // MMIO write
    if (vcpu_run(&c)) return -1;
    if (c.run->exit_reason != KVM_EXIT_MMIO) dump_exit(&c);
    CHECK(c.run->exit_reason == KVM_EXIT_MMIO, "expected KVM_EXIT_MMIO (write), got %s", exit_name(c.run->exit_reason));
    CHECK(c.run->mmio.is_write && c.run->mmio.phys_addr == MMIO_ADDR && c.run->mmio.len == 4 &&
              *(uint32_t *)c.run->mmio.data == 0xdeadbeef,
          "bad MMIO write exit: write=%u addr=0x%llx len=%u data=0x%x", c.run->mmio.is_write,
          (unsigned long long)c.run->mmio.phys_addr, c.run->mmio.len, *(uint32_t *)c.run->mmio.data);
    // MMIO read: supply a value
    if (vcpu_run(&c)) return -1;
    CHECK(c.run->exit_reason == KVM_EXIT_MMIO && !c.run->mmio.is_write && c.run->mmio.phys_addr == MMIO_ADDR &&
              c.run->mmio.len == 4,
          "bad MMIO read exit (reason %s)", exit_name(c.run->exit_reason));
    uint32_t v = 0xcafef00d;
    memcpy(c.run->mmio.data, &v, 4);
    if (expect_out(&c, 0x3f8, 4, 0xcafef00d) || expect_hlt(&c)) return -1;
    vcpu_destroy(&c);
    vm_destroy(&vm);
    printf("ok 2 long mode: paging+64-bit CS, out al/eax, RAM store, push, cpuid (vendor %.4s), "
           "MMIO write+read, hlt (CPUID2 set)\n",
           (char *)&vendor);
    return 0;
}

// ---------------------------------------------------------------- two vCPUs
struct thr {
    struct vcpu c;
    int id, result;
};

static void *vcpu_thread(void *p) {
    struct thr *t = p;
    t->result = -1;
    for (int i = 0; i < 100; i++) {
        if (expect_out(&t->c, 0x3f8 + t->id, 1, (uint8_t)(i + t->id))) return NULL;
    }
    // with the in-kernel LAPIC, HLT does not exit to user space: end with an OUT
    if (expect_out(&t->c, 0x501, 1, (uint8_t)(100 + t->id))) return NULL;
    t->result = 0;
    return NULL;
}

static int test_two_vcpus(void) {
    struct vm vm;
    struct thr t[2];
    if (vm_create(&vm, 2 << 20, 1)) return -1;
    setup_long_mode_mem(&vm);
    for (int id = 0; id < 2; id++) {
        // rdx = port 0x3f8+id; al counts from id; 100 outs; hlt
        uint8_t *p = vm.mem + 0x1000 + id * 0x100;
        const uint8_t code[] = {
            0x66, 0xba, (uint8_t)(0xf8 + id), 0x03, // mov dx, 0x3f8+id
            0xb0, (uint8_t)id,                      // mov al, id
            0xb9, 100, 0, 0, 0,                     // mov ecx, 100
            0xee,                                   // 1: out dx, al
            0xfe, 0xc0,                             // inc al
            0xff, 0xc9,                             // dec ecx
            0x75, 0xf9,                             // jnz 1b
            0x66, 0xba, 0x01, 0x05,                 // mov dx, 0x501
            0xee,                                   // out dx, al (done)
            0xf4,                                   // hlt
        };
        memcpy(p, code, sizeof code);
        t[id].id = id;
        if (vcpu_create(&vm, &t[id].c, id) || set_cpuid(&t[id].c) ||
            setup_long_mode_vcpu(&t[id].c, 0x1000 + id * 0x100, STACK_TOP - id * 0x1000))
            return -1;
        // with the in-kernel LAPIC, vCPUs other than the BSP wait for INIT/SIPI
        struct kvm_mp_state mp = {.mp_state = KVM_MP_STATE_RUNNABLE};
        CHECK(ioctl(t[id].c.fd, KVM_SET_MP_STATE, &mp) == 0, "KVM_SET_MP_STATE: %s", strerror(errno));
    }
    pthread_t th[2];
    for (int id = 0; id < 2; id++) pthread_create(&th[id], NULL, vcpu_thread, &t[id]);
    for (int id = 0; id < 2; id++) pthread_join(th[id], NULL);
    CHECK(t[0].result == 0 && t[1].result == 0, "two-vCPU run failed");
    for (int id = 0; id < 2; id++) vcpu_destroy(&t[id].c);
    vm_destroy(&vm);
    printf("ok 3 two vCPUs in two threads, in-kernel irqchip+PIT: 2x101 IO exits\n");
    return 0;
}

// ---------------------------------------------------------------- bench
static int bench(int n) {
    struct vm vm;
    struct vcpu c;
    if (vm_create(&vm, 2 << 20, 0) || vcpu_create(&vm, &c, 0) || set_cpuid(&c)) return -1;
    setup_long_mode_mem(&vm);
    const uint8_t code[] = {
        0x66, 0xba, 0xf8, 0x03,                          // mov dx, 0x3f8
        0xb9, (uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16), (uint8_t)(n >> 24), // mov ecx, n
        0xee,                                            // 1: out dx, al
        0xff, 0xc9,                                      // dec ecx
        0x75, 0xfb,                                      // jnz 1b
        0xb9, (uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16), (uint8_t)(n >> 24), // mov ecx, n
        0x89, 0xcf,                                      // 2: mov edi, ecx
        0x31, 0xc0,                                      // xor eax, eax
        0x0f, 0xa2,                                      // cpuid
        0x89, 0xf9,                                      // mov ecx, edi
        0xff, 0xc9,                                      // dec ecx
        0x75, 0xf4,                                      // jnz 2b
        0xf4,                                            // hlt
    };
    memcpy(vm.mem + 0x1000, code, sizeof code);
    if (setup_long_mode_vcpu(&c, 0x1000, STACK_TOP)) return -1;
    double t0 = now();
    for (int i = 0; i < n; i++) {
        if (vcpu_run(&c)) return -1;
        CHECK(c.run->exit_reason == KVM_EXIT_IO, "bench: expected IO exit at %d, got %s", i,
              exit_name(c.run->exit_reason));
    }
    double t1 = now();
    if (expect_hlt(&c)) return -1;
    double t2 = now();
    printf("ok 4 bench: %d out exits (guest->KVM->user->guest): %.2f us/exit; "
           "%d cpuid exits (in-kernel): %.2f us/exit\n",
           n, (t1 - t0) * 1e6 / n, n, (t2 - t1) * 1e6 / n);
    vcpu_destroy(&c);
    vm_destroy(&vm);
    return 0;
}

static const char *volatile current_test = "setup";
static void on_alarm(int sig) {
    (void)sig;
    static const char msg[] = "FAIL: selftest timed out in test: ";
    write(2, msg, sizeof msg - 1);
    write(2, current_test, strlen(current_test));
    write(2, "\n", 1);
    _exit(2);
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 10000;
    setvbuf(stdout, NULL, _IONBF, 0);
    signal(SIGALRM, on_alarm);
    alarm(argc > 2 ? atoi(argv[2]) : 300);
    double t0 = now();
    kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm_fd < 0) {
        fprintf(stderr, "FAIL: open /dev/kvm: %s\n", strerror(errno));
        return 1;
    }
    int api = ioctl(kvm_fd, KVM_GET_API_VERSION, 0);
    run_size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    printf("/dev/kvm: api=%d vcpu_mmap_size=%ld caps: user_memory=%d irqchip=%d pit2=%d ioeventfd=%d "
           "irqfd=%d nr_vcpus=%d max_vcpus=%d\n",
           api, run_size, ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY),
           ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQCHIP), ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_PIT2),
           ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IOEVENTFD), ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQFD),
           ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS), ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS));
    if (api != 12) {
        fprintf(stderr, "FAIL: KVM API version %d\n", api);
        return 1;
    }
    current_test = "real mode";
    test_real_mode();
    current_test = "long mode";
    test_long_mode();
    current_test = "two vCPUs";
    test_two_vcpus();
    current_test = "bench";
    if (n > 0) bench(n);
    printf("%s: %d failure(s), %.2f s\n", failures ? "FAILED" : "PASSED", failures, now() - t0);
    return failures ? 1 : 0;
}
