/* kiln-vsock: the guest side of kiln's vsock tests and bench (busybox has no AF_VSOCK tool). Built
 * static with the host's gcc by guest/build-initramfs (and guest/build-stock) into /bin/kiln-vsock.
 *
 *   kiln-vsock cid                      print this guest's CID (IOCTL_VM_SOCKETS_GET_LOCAL_CID)
 *   kiln-vsock echo PORT                listen on PORT; each connection (a child process) gets its
 *                                       bytes back until it half-closes; errors are printed as
 *                                       "kiln-vsock: echo PORT: <reason>"
 *   kiln-vsock send CID PORT BYTES      connect, send BYTES of the test pattern (byte i is
 *                                       (i * 131 + i / 4093) mod 256) while reading the echo, then
 *                                       half-close; prints "kiln-vsock: send ok BYTES" when the
 *                                       echo matches byte for byte and ends with EOF, else a reason
 *                                       and exit status 1
 *   kiln-vsock hold CID PORT            connect and wait for the connection to end; prints
 *                                       "kiln-vsock: hold: <reason>" (e.g. Connection reset by peer)
 *   kiln-vsock recv PORT FILE           listen on PORT ("kiln-vsock: recv listening on PORT"),
 *                                       take one connection, write what it sends to FILE until its
 *                                       EOF, close; prints "kiln-vsock: recv PORT BYTES"
 *   kiln-vsock put CID PORT FILE [MAX]  connect, send FILE (at most MAX bytes: /dev/zero works),
 *                                       half-close, wait for the peer's EOF; prints
 *                                       "kiln-vsock: put ok BYTES"
 *   kiln-vsock accept PORT              listen on PORT and close every connection it accepts (the
 *                                       bench's connections per second)
 * TCP instead of vsock, for the bench's virtio-net reference: a CID with a dot is an IPv4 address,
 * a listening PORT written tcp:PORT listens on TCP.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static unsigned char pattern(unsigned long i) { return (unsigned char)((i * 131 + i / 4093) & 0xff); }

static int die(const char *what) {
  printf("kiln-vsock: %s: %s\n", what, strerror(errno));
  fflush(stdout);
  return 1;
}

/* An endpoint: vsock (CID, port) or, for the bench's reference, TCP over IPv4. */
struct endpoint {
  union {
    struct sockaddr_vm vm;
    struct sockaddr_in in;
  } a;
  socklen_t len;
  int family;
};

static struct endpoint endpoint_of(const char *host, const char *port) {
  struct endpoint e;
  memset(&e, 0, sizeof(e));
  if (host == NULL && strncmp(port, "tcp:", 4) == 0) {
    e.family = AF_INET;
    e.a.in.sin_family = AF_INET;
    e.a.in.sin_addr.s_addr = htonl(INADDR_ANY);
    e.a.in.sin_port = htons((unsigned short)strtoul(port + 4, NULL, 10));
    e.len = sizeof(e.a.in);
  } else if (host != NULL && strchr(host, '.') != NULL) {
    e.family = AF_INET;
    e.a.in.sin_family = AF_INET;
    inet_pton(AF_INET, host, &e.a.in.sin_addr);
    e.a.in.sin_port = htons((unsigned short)strtoul(port, NULL, 10));
    e.len = sizeof(e.a.in);
  } else {
    e.family = AF_VSOCK;
    e.a.vm.svm_family = AF_VSOCK;
    e.a.vm.svm_cid = host == NULL ? VMADDR_CID_ANY : (unsigned)strtoul(host, NULL, 10);
    e.a.vm.svm_port = (unsigned)strtoul(port, NULL, 10);
    e.len = sizeof(e.a.vm);
  }
  return e;
}

static int listen_on(const char *port) {
  struct endpoint e = endpoint_of(NULL, port);
  int fd = socket(e.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd >= 0 && e.family == AF_INET) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (fd < 0 || bind(fd, (struct sockaddr *)&e.a, e.len) != 0 || listen(fd, 128) != 0) return -1;
  return fd;
}

static int print_cid(void) {
  int fd = open("/dev/vsock", O_RDONLY | O_CLOEXEC);
  unsigned cid = 0;
  if (fd < 0 || ioctl(fd, IOCTL_VM_SOCKETS_GET_LOCAL_CID, &cid) != 0) return die("cid");
  printf("kiln-vsock: cid %u\n", cid);
  return 0;
}

static void echo_one(int fd, const char *port) {
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      printf("kiln-vsock: echo %s: %s\n", port, strerror(errno));
      fflush(stdout);
      _exit(1);
    }
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(fd, buf + off, (size_t)(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        printf("kiln-vsock: echo %s: %s\n", port, strerror(errno));
        fflush(stdout);
        _exit(1);
      }
      off += w;
    }
  }
  shutdown(fd, SHUT_WR);
  close(fd);
  _exit(0);
}

static int echo(const char *port) {
  signal(SIGCHLD, SIG_IGN);  /* no zombies */
  int fd = listen_on(port);
  if (fd < 0) return die("echo listen");
  printf("kiln-vsock: echo listening on %s\n", port);
  fflush(stdout);
  for (;;) {
    int c = accept(fd, NULL, NULL);
    if (c < 0) {
      if (errno == EINTR) continue;
      return die("echo accept");
    }
    pid_t pid = fork();
    if (pid == 0) {
      close(fd);
      echo_one(c, port);
    }
    close(c);
  }
}

static int connect_to(const char *cid, const char *port) {
  struct endpoint e = endpoint_of(cid, port);
  int fd = socket(e.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd >= 0 && e.family == AF_INET) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (fd < 0 || connect(fd, (struct sockaddr *)&e.a, e.len) != 0) return -1;
  return fd;
}

static int send_pattern(const char *cid, const char *port, const char *bytes_text) {
  const unsigned long total = strtoul(bytes_text, NULL, 10);
  int fd = connect_to(cid, port);
  if (fd < 0) return die("send connect");
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  unsigned long sent = 0, got = 0;
  int shut = 0;
  unsigned char out[16384], in[65536];
  for (;;) {
    if (sent == total && !shut) {
      shutdown(fd, SHUT_WR);
      shut = 1;
    }
    struct pollfd p = {fd, (short)(POLLIN | (sent < total ? POLLOUT : 0)), 0};
    if (poll(&p, 1, 60000) <= 0) {
      printf("kiln-vsock: send: stalled at %lu sent, %lu received\n", sent, got);
      return 1;
    }
    if (sent < total && (p.revents & POLLOUT)) {
      size_t n = total - sent < sizeof(out) ? total - sent : sizeof(out);
      for (size_t i = 0; i < n; ++i) out[i] = pattern(sent + i);
      ssize_t w = write(fd, out, n);
      if (w < 0 && errno != EAGAIN && errno != EINTR) return die("send write");
      if (w > 0) sent += (unsigned long)w;
    }
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(fd, in, sizeof(in));
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n < 0) return die("send read");
      if (n == 0) break;
      for (ssize_t i = 0; i < n; ++i) {
        if (in[i] != pattern(got + (unsigned long)i)) {
          printf("kiln-vsock: send: byte %lu differs\n", got + (unsigned long)i);
          return 1;
        }
      }
      got += (unsigned long)n;
    }
  }
  if (got != total) {
    printf("kiln-vsock: send: %lu of %lu bytes came back\n", got, total);
    return 1;
  }
  printf("kiln-vsock: send ok %lu\n", total);
  return 0;
}

static int hold(const char *cid, const char *port) {
  int fd = connect_to(cid, port);
  if (fd < 0) return die("hold connect");
  printf("kiln-vsock: hold connected\n");
  fflush(stdout);
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n > 0) continue;
    if (n < 0 && errno == EINTR) continue;
    printf("kiln-vsock: hold: %s\n", n == 0 ? "end of stream" : strerror(errno));
    return 0;
  }
}

static int write_all(int fd, const char *buf, size_t n) {
  for (size_t off = 0; off < n;) {
    ssize_t w = write(fd, buf + off, n - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    off += (size_t)w;
  }
  return 0;
}

static int recv_file(const char *port, const char *path) {
  int fd = listen_on(port);
  if (fd < 0) return die("recv listen");
  printf("kiln-vsock: recv listening on %s\n", port);
  int c;
  while ((c = accept(fd, NULL, NULL)) < 0 && errno == EINTR) {}
  if (c < 0) return die("recv accept");
  close(fd);
  int out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) return die("recv open");
  static char buf[65536];
  unsigned long total = 0;
  for (;;) {
    ssize_t n = read(c, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return die("recv read");
    if (n == 0) break;
    if (write_all(out, buf, (size_t)n) != 0) return die("recv write");
    total += (unsigned long)n;
  }
  close(out);
  close(c);
  printf("kiln-vsock: recv %s %lu\n", port, total);
  return 0;
}

static int put_file(const char *cid, const char *port, const char *path, const char *max_text) {
  unsigned long max = max_text != NULL ? strtoul(max_text, NULL, 10) : (unsigned long)-1, total = 0;
  int in = open(path, O_RDONLY | O_CLOEXEC);
  if (in < 0) return die("put open");
  int fd = connect_to(cid, port);
  if (fd < 0) return die("put connect");
  static char buf[65536];
  while (total < max) {
    size_t want = max - total < sizeof(buf) ? max - total : sizeof(buf);
    ssize_t n = read(in, buf, want);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return die("put read");
    if (n == 0) break;
    if (write_all(fd, buf, (size_t)n) != 0) return die("put write");
    total += (unsigned long)n;
  }
  shutdown(fd, SHUT_WR);
  for (;;) {  /* the peer's EOF: it has read everything */
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return die("put wait");
    if (n == 0) break;
  }
  close(fd);
  printf("kiln-vsock: put ok %lu\n", total);
  return 0;
}

static int accept_close(const char *port) {
  int fd = listen_on(port);
  if (fd < 0) return die("accept listen");
  printf("kiln-vsock: accept listening on %s\n", port);
  for (;;) {
    int c = accept(fd, NULL, NULL);
    if (c < 0 && errno == EINTR) continue;
    if (c < 0) return die("accept");
    close(c);
  }
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc == 2 && strcmp(argv[1], "cid") == 0) return print_cid();
  if (argc == 3 && strcmp(argv[1], "echo") == 0) return echo(argv[2]);
  if (argc == 5 && strcmp(argv[1], "send") == 0) return send_pattern(argv[2], argv[3], argv[4]);
  if (argc == 4 && strcmp(argv[1], "hold") == 0) return hold(argv[2], argv[3]);
  if (argc == 4 && strcmp(argv[1], "recv") == 0) return recv_file(argv[2], argv[3]);
  if ((argc == 5 || argc == 6) && strcmp(argv[1], "put") == 0) return put_file(argv[2], argv[3], argv[4], argc == 6 ? argv[5] : NULL);
  if (argc == 3 && strcmp(argv[1], "accept") == 0) return accept_close(argv[2]);
  fprintf(stderr, "usage: kiln-vsock cid | echo PORT | send CID PORT BYTES | hold CID PORT | recv PORT FILE |\n"
                  "       put CID PORT FILE [MAX] | accept PORT   (CID a.b.c.d or PORT tcp:N: TCP)\n");
  return 2;
}
