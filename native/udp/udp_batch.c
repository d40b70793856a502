/*
 * udp_batch: a UDP socket for QUIC that crosses from JavaScript into the kernel once per burst.
 *
 * Send: JavaScript hands over one buffer holding "trains" (runs of equal-size QUIC packets for
 * one peer, the last possibly shorter) and a table of [offset, length, segment size, address
 * slot]. Each train becomes one message with a UDP_SEGMENT control message (Linux GSO,
 * udp(7), since 4.18), and all trains of the burst leave in one sendmmsg(2). Without GSO a
 * train is split into one message per packet, still in one sendmmsg.
 *
 * Receive: a uv_poll handle on the socket; on readable, recvmmsg(2) fills a JavaScript-owned
 * buffer, with UDP_GRO (since 5.0) letting the kernel coalesce a peer's packets into one
 * message whose control data says the segment size. Every datagram is described as
 * [offset, length, message index] in a JavaScript-owned Int32Array, and JavaScript is called
 * once per readable event with the source address of each message.
 *
 * The control-message parsing (udp_gro_segments) is exported for fuzzing.
 * Only N-API (ABI-stable, version 8) and libuv's stable uv_poll API are used.
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef SOL_UDP
#define SOL_UDP 17
#endif
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

/* Messages per recvmmsg / sendmmsg call. */
#define RX_MESSAGES 32
#define TX_MESSAGES 1024
/* Largest UDP payload (GRO and GSO never exceed 64 KiB). */
#define MAX_MESSAGE 65535
/* Kernel limit on segments per GSO send (UDP_MAX_SEGMENTS). */
#define MAX_SEGMENTS 64
/* Bytes of one address slot in the send table (a sockaddr_in6 fits). */
#define ADDRESS_SLOT 28
#define CONTROL_BYTES 64

#define CHECK(call)                                                                   \
  do {                                                                                \
    if ((call) != napi_ok) {                                                          \
      napi_throw_error(env, NULL, "udp_batch: N-API call failed: " #call);            \
      return NULL;                                                                    \
    }                                                                                 \
  } while (0)

typedef struct udp_socket {
  uv_poll_t poll;
  int fd;
  int family;
  int connected;
  int gso;
  int gro;
  int polling;
  int closed;
  napi_env env;
  napi_ref on_receive;
  napi_ref rx_ref;
  napi_ref meta_ref;
  napi_async_context async;
  uint8_t *rx;
  size_t rx_length;
  int32_t *meta;
  size_t meta_entries; /* of 3 int32 each */
  int rx_count;        /* messages per recvmmsg: as many 64 KiB slots as rx holds */
  struct mmsghdr rx_msgs[RX_MESSAGES];
  struct iovec rx_iov[RX_MESSAGES];
  struct sockaddr_storage rx_addr[RX_MESSAGES];
  uint8_t rx_control[RX_MESSAGES][CONTROL_BYTES];
  struct mmsghdr tx_msgs[TX_MESSAGES];
  struct iovec tx_iov[TX_MESSAGES];
  union {
    struct cmsghdr align;
    uint8_t bytes[CMSG_SPACE(sizeof(uint16_t))];
  } tx_control[TX_MESSAGES];
  /* Counters read by JavaScript through stats(). */
  double sent_messages;
  double send_calls;
  double send_errors;
  double received_datagrams;
  double receive_calls;
} udp_socket;

/*
 * The segment size of a received message from its control data: the UDP_GRO cmsg (an int),
 * or 0 when there is none (one datagram). Every length is checked against `length` before it
 * is read; malformed control data yields -1.
 */
static int udp_gro_size(const uint8_t *control, size_t length) {
  size_t offset = 0;
  int size = 0;
  while (offset + sizeof(struct cmsghdr) <= length) {
    struct cmsghdr header;
    memcpy(&header, control + offset, sizeof header);
    if (header.cmsg_len < sizeof(struct cmsghdr) || header.cmsg_len > length - offset) return -1;
    if (header.cmsg_level == SOL_UDP && header.cmsg_type == UDP_GRO) {
      int value;
      if (header.cmsg_len < CMSG_LEN(sizeof value)) return -1;
      memcpy(&value, control + offset + CMSG_LEN(0), sizeof value);
      if (value < 0 || value > MAX_MESSAGE) return -1;
      size = value;
    }
    size_t step = CMSG_ALIGN(header.cmsg_len);
    if (step > length - offset) break;
    offset += step;
  }
  return size;
}

/*
 * Splits a received message of `length` bytes at `base` into datagrams of the GRO segment
 * size (the last may be shorter), writing [offset, length, message] triples to `out`.
 * Returns how many were written, or -1 for malformed control data or more than `capacity`.
 */
static int udp_gro_segments(const uint8_t *control, size_t control_length, uint32_t base, uint32_t length, int32_t message,
                            int32_t *out, size_t capacity) {
  int size = udp_gro_size(control, control_length);
  if (size < 0) return -1;
  if (length > MAX_MESSAGE) return -1;
  if (size == 0 || (uint32_t)size >= length) size = (int)length;
  /* More datagrams than room (the kernel coalesces at most 64): drop the message whole. */
  if (length > 0 && (length + (uint32_t)size - 1) / (uint32_t)size > capacity) return -1;
  size_t count = 0;
  for (uint32_t at = 0; at < length && count < capacity; at += (uint32_t)size) {
    uint32_t piece = length - at < (uint32_t)size ? length - at : (uint32_t)size;
    out[count * 3] = (int32_t)(base + at);
    out[count * 3 + 1] = (int32_t)piece;
    out[count * 3 + 2] = message;
    count++;
  }
  if (length == 0 && capacity > 0) { /* an empty datagram is still a datagram */
    out[0] = (int32_t)base;
    out[1] = 0;
    out[2] = message;
    count = 1;
  }
  return (int)count;
}

static napi_value address_string(napi_env env, const struct sockaddr_storage *addr, int *port) {
  char text[INET6_ADDRSTRLEN] = "";
  if (addr->ss_family == AF_INET6) {
    const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)addr;
    inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
    *port = ntohs(v6->sin6_port);
  } else if (addr->ss_family == AF_INET) {
    const struct sockaddr_in *v4 = (const struct sockaddr_in *)addr;
    inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
    *port = ntohs(v4->sin_port);
  } else {
    *port = 0;
  }
  napi_value value;
  if (napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &value) != napi_ok) return NULL;
  return value;
}

static int parse_address(const char *host, int port, int family, struct sockaddr_storage *out, socklen_t *length) {
  memset(out, 0, sizeof *out);
  if (family == AF_INET6) {
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)out;
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons((uint16_t)port);
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) != 1) {
      /* An IPv4 literal on an IPv6 socket: the v4-mapped address. */
      struct in_addr v4;
      if (inet_pton(AF_INET, host, &v4) != 1) return -1;
      v6->sin6_addr.s6_addr[10] = 0xff;
      v6->sin6_addr.s6_addr[11] = 0xff;
      memcpy(&v6->sin6_addr.s6_addr[12], &v4, 4);
    }
    *length = sizeof(struct sockaddr_in6);
    return 0;
  }
  struct sockaddr_in *v4 = (struct sockaddr_in *)out;
  v4->sin_family = AF_INET;
  v4->sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, host, &v4->sin_addr) != 1) return -1;
  *length = sizeof(struct sockaddr_in);
  return 0;
}

static void call_receive(udp_socket *sock, int datagrams, int messages, int error) {
  napi_env env = sock->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value callback, global, result, args[4];
  if (napi_get_reference_value(env, sock->on_receive, &callback) != napi_ok || callback == NULL) goto done;
  napi_get_global(env, &global);
  napi_create_int32(env, datagrams, &args[0]);
  napi_create_array_with_length(env, (size_t)messages * 2, &args[1]);
  for (int i = 0; i < messages; i++) {
    int port;
    napi_value host = address_string(env, &sock->rx_addr[i], &port);
    napi_value port_value;
    napi_create_int32(env, port, &port_value);
    napi_set_element(env, args[1], (uint32_t)i * 2, host);
    napi_set_element(env, args[1], (uint32_t)i * 2 + 1, port_value);
  }
  napi_create_int32(env, error, &args[2]);
  napi_make_callback(env, sock->async, global, callback, 3, args, &result);
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) {
    napi_value exception;
    napi_get_and_clear_last_exception(env, &exception);
    napi_fatal_exception(env, exception);
  }
done:
  napi_close_handle_scope(env, scope);
}

static void on_readable(uv_poll_t *handle, int status, int events) {
  udp_socket *sock = (udp_socket *)handle->data;
  (void)events;
  if (sock->closed) return;
  if (status < 0) return;
  /* Drain a bounded number of batches per wakeup so one busy socket cannot starve the loop. */
  for (int round = 0; round < 8 && !sock->closed; round++) {
    size_t slot = MAX_MESSAGE;
    for (int i = 0; i < sock->rx_count; i++) {
      sock->rx_iov[i].iov_base = sock->rx + (size_t)i * slot;
      sock->rx_iov[i].iov_len = slot;
      struct msghdr *msg = &sock->rx_msgs[i].msg_hdr;
      memset(msg, 0, sizeof *msg);
      msg->msg_name = &sock->rx_addr[i];
      msg->msg_namelen = sizeof sock->rx_addr[i];
      msg->msg_iov = &sock->rx_iov[i];
      msg->msg_iovlen = 1;
      msg->msg_control = sock->rx_control[i];
      msg->msg_controllen = CONTROL_BYTES;
      sock->rx_msgs[i].msg_len = 0;
    }
    int received = recvmmsg(sock->fd, sock->rx_msgs, (unsigned)sock->rx_count, MSG_DONTWAIT, NULL);
    if (received < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
      call_receive(sock, 0, 0, errno);
      return;
    }
    sock->receive_calls++;
    int datagrams = 0;
    for (int i = 0; i < received; i++) {
      struct msghdr *msg = &sock->rx_msgs[i].msg_hdr;
      if (msg->msg_flags & MSG_TRUNC) continue;
      int count = udp_gro_segments(sock->rx_control[i], msg->msg_controllen, (uint32_t)(i * slot), sock->rx_msgs[i].msg_len, i,
                                   sock->meta + (size_t)datagrams * 3, sock->meta_entries - (size_t)datagrams);
      if (count > 0) datagrams += count;
    }
    sock->received_datagrams += datagrams;
    if (datagrams > 0) call_receive(sock, datagrams, received, 0);
    if (received < sock->rx_count) return;
  }
}

static void finalize_socket(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  udp_socket *sock = (udp_socket *)data;
  /* close() already released the handle; a socket never closed leaks its fd to process exit. */
  if (sock->closed == 2) free(sock);
}

static udp_socket *unwrap(napi_env env, napi_value value) {
  udp_socket *sock = NULL;
  if (napi_get_value_external(env, value, (void **)&sock) != napi_ok || sock == NULL) {
    napi_throw_type_error(env, NULL, "udp_batch: not a socket");
    return NULL;
  }
  return sock;
}

static int get_string(napi_env env, napi_value value, char *out, size_t size) {
  size_t length = 0;
  if (napi_get_value_string_utf8(env, value, out, size, &length) != napi_ok) return -1;
  return (int)length;
}

/*
 * open(host, port, reusePort, connectHost|null, connectPort, bufferBytes, rx: Uint8Array,
 *      meta: Int32Array, onReceive) → [socket, localHost, localPort, gso, gro]
 */
static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 9) {
    napi_throw_type_error(env, NULL, "udp_batch.open: 9 arguments expected");
    return NULL;
  }
  char host[INET6_ADDRSTRLEN + 1], peer[INET6_ADDRSTRLEN + 1];
  int32_t port, peer_port, buffer_bytes;
  bool reuse_port;
  napi_valuetype peer_type;
  if (get_string(env, argv[0], host, sizeof host) < 0) return NULL;
  CHECK(napi_get_value_int32(env, argv[1], &port));
  CHECK(napi_get_value_bool(env, argv[2], &reuse_port));
  CHECK(napi_typeof(env, argv[3], &peer_type));
  if (peer_type == napi_string && get_string(env, argv[3], peer, sizeof peer) < 0) return NULL;
  CHECK(napi_get_value_int32(env, argv[4], &peer_port));
  CHECK(napi_get_value_int32(env, argv[5], &buffer_bytes));

  napi_typedarray_type rx_type, meta_type;
  size_t rx_length, meta_length;
  void *rx_data, *meta_data;
  CHECK(napi_get_typedarray_info(env, argv[6], &rx_type, &rx_length, &rx_data, NULL, NULL));
  CHECK(napi_get_typedarray_info(env, argv[7], &meta_type, &meta_length, &meta_data, NULL, NULL));
  if (rx_type != napi_uint8_array || meta_type != napi_int32_array || rx_length < MAX_MESSAGE) {
    napi_throw_type_error(env, NULL, "udp_batch.open: rx must be a Uint8Array of at least 64 KiB, meta an Int32Array");
    return NULL;
  }

  struct sockaddr_storage local;
  socklen_t local_length;
  int family = strchr(host, ':') ? AF_INET6 : AF_INET;
  if (parse_address(host, port, family, &local, &local_length) < 0) {
    napi_throw_error(env, "EINVAL", "udp_batch.open: host is not an IP literal");
    return NULL;
  }
  int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) goto fail;
  int one = 1;
  if (reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) goto fail_fd;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer_bytes, sizeof buffer_bytes);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer_bytes, sizeof buffer_bytes);
  if (bind(fd, (struct sockaddr *)&local, local_length) < 0) goto fail_fd;
  int connected = 0;
  if (peer_type == napi_string) {
    struct sockaddr_storage remote;
    socklen_t remote_length;
    if (parse_address(peer, peer_port, family, &remote, &remote_length) < 0) {
      errno = EINVAL;
      goto fail_fd;
    }
    if (connect(fd, (struct sockaddr *)&remote, remote_length) < 0) goto fail_fd;
    connected = 1;
  }
  /* GSO: probe with getsockopt (udp(7)); GRO: enable, or do without. */
  int gso_size = 0;
  socklen_t option_length = sizeof gso_size;
  int gso = getsockopt(fd, SOL_UDP, UDP_SEGMENT, &gso_size, &option_length) == 0;
  int gro = setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof one) == 0;

  udp_socket *sock = (udp_socket *)calloc(1, sizeof(udp_socket));
  if (sock == NULL) {
    errno = ENOMEM;
    goto fail_fd;
  }
  sock->fd = fd;
  sock->family = family;
  sock->connected = connected;
  sock->gso = gso;
  sock->gro = gro;
  sock->env = env;
  sock->rx = (uint8_t *)rx_data;
  sock->rx_length = rx_length;
  sock->meta = (int32_t *)meta_data;
  sock->meta_entries = meta_length / 3;
  sock->rx_count = (int)(rx_length / MAX_MESSAGE) < RX_MESSAGES ? (int)(rx_length / MAX_MESSAGE) : RX_MESSAGES;
  CHECK(napi_create_reference(env, argv[6], 1, &sock->rx_ref));
  CHECK(napi_create_reference(env, argv[7], 1, &sock->meta_ref));
  CHECK(napi_create_reference(env, argv[8], 1, &sock->on_receive));
  napi_value resource_name;
  CHECK(napi_create_string_utf8(env, "UdpBatchSocket", NAPI_AUTO_LENGTH, &resource_name));
  CHECK(napi_async_init(env, NULL, resource_name, &sock->async));

  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  if (uv_poll_init(loop, &sock->poll, fd) != 0 || uv_poll_start(&sock->poll, UV_READABLE, on_readable) != 0) {
    napi_throw_error(env, NULL, "udp_batch.open: uv_poll failed");
    return NULL;
  }
  sock->poll.data = sock;
  sock->polling = 1;

  struct sockaddr_storage bound;
  socklen_t bound_length = sizeof bound;
  getsockname(fd, (struct sockaddr *)&bound, &bound_length);
  int bound_port;
  napi_value result, external, local_host, local_port, gso_value, gro_value;
  CHECK(napi_create_external(env, sock, finalize_socket, NULL, &external));
  local_host = address_string(env, &bound, &bound_port);
  CHECK(napi_create_int32(env, bound_port, &local_port));
  CHECK(napi_get_boolean(env, gso, &gso_value));
  CHECK(napi_get_boolean(env, gro, &gro_value));
  CHECK(napi_create_array_with_length(env, 5, &result));
  napi_set_element(env, result, 0, external);
  napi_set_element(env, result, 1, local_host);
  napi_set_element(env, result, 2, local_port);
  napi_set_element(env, result, 3, gso_value);
  napi_set_element(env, result, 4, gro_value);
  return result;

fail_fd: {
  int saved = errno;
  close(fd);
  errno = saved;
}
fail: {
  char code[32];
  snprintf(code, sizeof code, "%d", errno);
  napi_throw_error(env, code, strerror(errno));
  return NULL;
}
}

/* address(socket, host, port) → Buffer of ADDRESS_SLOT bytes (sockaddr for this socket's family). */
static napi_value js_address(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  udp_socket *sock = unwrap(env, argv[0]);
  if (sock == NULL) return NULL;
  char host[INET6_ADDRSTRLEN + 1];
  int32_t port;
  if (get_string(env, argv[1], host, sizeof host) < 0) return NULL;
  CHECK(napi_get_value_int32(env, argv[2], &port));
  struct sockaddr_storage addr;
  socklen_t length;
  if (parse_address(host, port, sock->family, &addr, &length) < 0) {
    napi_throw_error(env, "EINVAL", "udp_batch.address: not an IP literal of the socket's family");
    return NULL;
  }
  void *data;
  napi_value buffer;
  CHECK(napi_create_buffer(env, ADDRESS_SLOT, &data, &buffer));
  memset(data, 0, ADDRESS_SLOT);
  memcpy(data, &addr, length);
  return buffer;
}

static int flush_messages(udp_socket *sock, int count) {
  int sent = 0;
  while (sent < count) {
    int n = sendmmsg(sock->fd, sock->tx_msgs + sent, (unsigned)(count - sent), MSG_DONTWAIT);
    sock->send_calls++;
    if (n < 0) {
      if (errno == EINTR) continue;
      /* EAGAIN (socket buffer full) or a per-message error: that message is lost, QUIC recovers. */
      sock->send_errors++;
      if (sock->connected && errno == ECONNREFUSED) return -ECONNREFUSED;
      if (errno == EIO && sock->gso) return -EIO; /* GSO refused by the device: caller retries without */
      sent++;
      continue;
    }
    sent += n;
    sock->sent_messages += n;
  }
  return 0;
}

/*
 * sendBatch(socket, data: Uint8Array, trains: Int32Array, count, addresses: Uint8Array)
 * trains: [offset, length, segmentSize, addressSlot] × count → 0, or a negative errno
 * (-ECONNREFUSED for a connected socket whose peer is gone).
 */
static napi_value js_send_batch(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  udp_socket *sock = unwrap(env, argv[0]);
  if (sock == NULL) return NULL;
  napi_typedarray_type type;
  size_t data_length, trains_length, addresses_length;
  void *data_ptr, *trains_ptr, *addresses_ptr;
  int32_t count;
  CHECK(napi_get_typedarray_info(env, argv[1], &type, &data_length, &data_ptr, NULL, NULL));
  CHECK(napi_get_typedarray_info(env, argv[2], &type, &trains_length, &trains_ptr, NULL, NULL));
  CHECK(napi_get_value_int32(env, argv[3], &count));
  CHECK(napi_get_typedarray_info(env, argv[4], &type, &addresses_length, &addresses_ptr, NULL, NULL));
  const uint8_t *data = (const uint8_t *)data_ptr;
  const int32_t *trains = (const int32_t *)trains_ptr;
  const uint8_t *addresses = (const uint8_t *)addresses_ptr;
  napi_value result;
  if (sock->closed || count < 0 || (size_t)count * 4 > trains_length) {
    napi_create_int32(env, sock->closed ? -EBADF : -EINVAL, &result);
    return result;
  }
  int status = 0;
  int messages = 0;
  for (int32_t t = 0; t < count && status == 0; t++) {
    int32_t offset = trains[t * 4], length = trains[t * 4 + 1], segment = trains[t * 4 + 2], slot = trains[t * 4 + 3];
    if (offset < 0 || length <= 0 || (size_t)offset + (size_t)length > data_length || segment <= 0 ||
        (!sock->connected && (slot < 0 || (size_t)(slot + 1) * ADDRESS_SLOT > addresses_length)))
      continue;
    int whole = sock->gso && length > segment && (length + segment - 1) / segment <= MAX_SEGMENTS;
    for (int32_t at = 0; at < length;) {
      int32_t piece = whole ? length : (length - at < segment ? length - at : segment);
      if (messages == TX_MESSAGES) {
        status = flush_messages(sock, messages);
        messages = 0;
        if (status != 0) break;
      }
      struct msghdr *msg = &sock->tx_msgs[messages].msg_hdr;
      memset(msg, 0, sizeof *msg);
      sock->tx_iov[messages].iov_base = (void *)(data + offset + at);
      sock->tx_iov[messages].iov_len = (size_t)piece;
      msg->msg_iov = &sock->tx_iov[messages];
      msg->msg_iovlen = 1;
      if (!sock->connected) {
        msg->msg_name = (void *)(addresses + (size_t)slot * ADDRESS_SLOT);
        msg->msg_namelen = sock->family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
      }
      if (whole) {
        msg->msg_control = sock->tx_control[messages].bytes;
        msg->msg_controllen = CMSG_SPACE(sizeof(uint16_t));
        struct cmsghdr *cmsg = CMSG_FIRSTHDR(msg);
        cmsg->cmsg_level = SOL_UDP;
        cmsg->cmsg_type = UDP_SEGMENT;
        cmsg->cmsg_len = CMSG_LEN(sizeof(uint16_t));
        uint16_t size = (uint16_t)segment;
        memcpy(CMSG_DATA(cmsg), &size, sizeof size);
      }
      messages++;
      at += piece;
    }
  }
  if (status == 0 && messages > 0) status = flush_messages(sock, messages);
  if (status == -EIO) sock->gso = 0; /* later batches go packet by packet */
  napi_create_int32(env, status, &result);
  return result;
}

static void on_closed(uv_handle_t *handle) {
  udp_socket *sock = (udp_socket *)handle->data;
  close(sock->fd);
  sock->closed = 2; /* the external's finalizer frees it */
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  udp_socket *sock = unwrap(env, argv[0]);
  if (sock == NULL || sock->closed) return NULL;
  sock->closed = 1;
  napi_delete_reference(env, sock->on_receive);
  napi_delete_reference(env, sock->rx_ref);
  napi_delete_reference(env, sock->meta_ref);
  sock->on_receive = NULL;
  napi_async_destroy(env, sock->async);
  if (sock->polling) {
    uv_poll_stop(&sock->poll);
    uv_close((uv_handle_t *)&sock->poll, on_closed);
  }
  return NULL;
}

/* stats(socket) → [sentMessages, sendCalls, sendErrors, receivedDatagrams, receiveCalls, gso, gro] */
static napi_value js_stats(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  udp_socket *sock = unwrap(env, argv[0]);
  if (sock == NULL) return NULL;
  double values[7] = {sock->sent_messages, sock->send_calls, sock->send_errors, sock->received_datagrams, sock->receive_calls, sock->gso, sock->gro};
  napi_value result;
  CHECK(napi_create_array_with_length(env, 7, &result));
  for (uint32_t i = 0; i < 7; i++) {
    napi_value v;
    napi_create_double(env, values[i], &v);
    napi_set_element(env, result, i, v);
  }
  return result;
}

/* groSegments(control: Uint8Array, length, out: Int32Array) → count or -1 (the receive path's parser, for fuzzing). */
static napi_value js_gro_segments(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  napi_typedarray_type type;
  size_t control_length, out_length;
  void *control, *out;
  uint32_t length;
  CHECK(napi_get_typedarray_info(env, argv[0], &type, &control_length, &control, NULL, NULL));
  CHECK(napi_get_value_uint32(env, argv[1], &length));
  CHECK(napi_get_typedarray_info(env, argv[2], &type, &out_length, &out, NULL, NULL));
  if (type != napi_int32_array) {
    napi_throw_type_error(env, NULL, "udp_batch.groSegments: out must be an Int32Array");
    return NULL;
  }
  int count = udp_gro_segments((const uint8_t *)control, control_length, 0, length, 0, (int32_t *)out, out_length / 3);
  napi_value result;
  CHECK(napi_create_int32(env, count, &result));
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL},
      {"address", NULL, js_address, NULL, NULL, NULL, napi_default, NULL},
      {"sendBatch", NULL, js_send_batch, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
      {"stats", NULL, js_stats, NULL, NULL, NULL, napi_default, NULL},
      {"groSegments", NULL, js_gro_segments, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
