"""CTAPHID over UDP for python-fido2: the transport the interop and benchmark drivers share.

One 64-byte CTAPHID report per datagram, no report id (the SoloKeys/CanoKey simulator
convention `ctap virtual serve --udp` speaks).
"""
import socket

from fido2.hid import CtapHidDevice
from fido2.hid.base import CtapHidConnection, HidDescriptor


class UdpConnection(CtapHidConnection):
    """One 64-byte CTAPHID report per datagram, no report id (the SoloKeys/CanoKey convention)."""

    def __init__(self, host, port):
        self.addr = (host, port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(15)

    def write_packet(self, data):
        assert len(data) == 64, len(data)
        self.sock.sendto(bytes(data), self.addr)

    def read_packet(self):
        data, _ = self.sock.recvfrom(256)
        return data

    def close(self):
        self.sock.close()


def open_device(host, port):
    """A python-fido2 CtapHidDevice (CTAPHID_INIT done) for the key served at host:port."""
    return CtapHidDevice(HidDescriptor("udp:%s:%d" % (host, port), 0, 0, 64, 64), UdpConnection(host, port))
