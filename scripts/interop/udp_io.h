/*
 * CTAPHID-over-UDP transport for libfido2 (fido_dev_set_io_functions), shared by the
 * interop programs in this directory: one 64-byte CTAPHID report per datagram, no report
 * id (the SoloKeys/CanoKey simulator convention `ctap virtual serve --udp` speaks).
 * Header-only on purpose: each program is built from one .c file at test time.
 */
#ifndef CTAP_INTEROP_UDP_IO_H
#define CTAP_INTEROP_UDP_IO_H

#include <arpa/inet.h>
#include <fido.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct udp_handle {
	int fd;
	struct sockaddr_in peer;
};

static const char *udp_io_host = "127.0.0.1";
static int udp_io_port;

static void *
udp_open(const char *path)
{
	struct udp_handle *h;
	struct sockaddr_in local;

	(void)path; /* the address comes from udp_io_host / udp_io_port */
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	if ((h->fd = socket(AF_INET, SOCK_DGRAM, 0)) < 0) {
		free(h);
		return NULL;
	}
	memset(&local, 0, sizeof(local));
	local.sin_family = AF_INET;
	local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	local.sin_port = 0; /* ephemeral: the server answers each datagram's sender */
	h->peer.sin_family = AF_INET;
	h->peer.sin_port = htons((uint16_t)udp_io_port);
	if (bind(h->fd, (struct sockaddr *)&local, sizeof(local)) != 0 ||
	    inet_pton(AF_INET, udp_io_host, &h->peer.sin_addr) != 1) {
		close(h->fd);
		free(h);
		return NULL;
	}
	return h;
}

static void
udp_close(void *handle)
{
	struct udp_handle *h = handle;
	close(h->fd);
	free(h);
}

/* One report into buf; -1 on timeout or error (libfido2 then gives up on the transaction). */
static int
udp_read(void *handle, unsigned char *buf, size_t len, int ms)
{
	struct udp_handle *h = handle;
	struct pollfd pfd = { .fd = h->fd, .events = POLLIN };
	unsigned char pkt[256];
	ssize_t n;

	if (poll(&pfd, 1, ms < 0 ? 15000 : ms) <= 0)
		return -1;
	if ((n = recv(h->fd, pkt, sizeof(pkt), 0)) <= 0)
		return -1;
	if ((size_t)n > len)
		n = (ssize_t)len;
	memcpy(buf, pkt, (size_t)n);
	return (int)n;
}

/* libfido2 writes a report-id byte (0x00) then the 64-byte report; the datagram carries the 64. */
static int
udp_write(void *handle, const unsigned char *buf, size_t len)
{
	struct udp_handle *h = handle;
	if (len < 2)
		return -1;
	if (sendto(h->fd, buf + 1, len - 1, 0, (struct sockaddr *)&h->peer, sizeof(h->peer)) != (ssize_t)(len - 1))
		return -1;
	return (int)len;
}

/*
 * Attaches dev to the served key at host:port through the functions above and opens it:
 * FIDO_OK or the libfido2 error. The caller reports a failure its own way.
 */
static inline int
udp_io_attach(fido_dev_t *dev, const char *host, int port)
{
	static const fido_dev_io_t io = { udp_open, udp_close, udp_read, udp_write };
	char path[128];
	int r;

	udp_io_host = host;
	udp_io_port = port;
	snprintf(path, sizeof(path), "udp:%s:%d", host, port);
	if ((r = fido_dev_set_io_functions(dev, &io)) != FIDO_OK)
		return r;
	return fido_dev_open(dev, path);
}

/* Opens the served key at host:port; NULL (after a "FAIL open" line on stderr) on failure. */
static inline fido_dev_t *
udp_io_open_dev(const char *host, int port)
{
	fido_dev_t *dev;
	int r;

	if ((dev = fido_dev_new()) == NULL)
		return NULL;
	if ((r = udp_io_attach(dev, host, port)) != FIDO_OK) {
		fprintf(stderr, "FAIL open udp:%s:%d: %s (%d)\n", host, port, fido_strerr(r), r);
		fido_dev_free(&dev);
		return NULL;
	}
	return dev;
}

#endif
