// peer_socket: the streams of bench/vsock/vsock_peer, by the address written on its command line.
//   connect_to(TARGET, PORT)   uds:PATH    kiln's hybrid vsock (Firecracker's unix socket protocol:
//                                          "CONNECT <port>\n" answered by "OK <port>\n")
//                              vsock:CID   AF_VSOCK to the guest's CID (QEMU's vhost-vsock), plain
//                              tcp:ADDRESS TCP over virtio-net (TCP_NODELAY)
//   listen_on(WHERE)           uds:PATH (kiln's <uds_path>_<port>), vsock:PORT (VMADDR_CID_ANY)
//                              or tcp:PORT
// Both return a socket or -1 with errno set (EINVAL for an address they do not understand).
#pragma once

#include <cstddef>
#include <string>

namespace vsock_peer {

bool write_all(int fd, const char* p, size_t n);
int connect_to(const std::string& target, unsigned port);
int listen_on(const std::string& where);

}  // namespace vsock_peer
