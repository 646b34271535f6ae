"""pypsrp against a wsman-harness server: WinRS processes over Negotiate with encryption.

Usage: pypsrp_flows.py HOST PORT USER PASSWORD [AUTH]
AUTH is pypsrp's: negotiate (the default), ntlm or kerberos.
"""
import sys

from pypsrp.shell import Process, SignalCode, WinRS
from pypsrp.wsman import WSMan

host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
auth = sys.argv[5] if len(sys.argv) > 5 else "negotiate"
print(f"pypsrp auth={auth}")
wsman = WSMan(host, port=port, username=user, password=password, ssl=False,
              auth=auth, encryption="auto", path="wsman")
with wsman, WinRS(wsman) as shell:
    body = wsman.get("http://schemas.microsoft.com/wbem/wsman/1/config")
    ns = "{http://schemas.microsoft.com/wbem/wsman/1/config}"
    size = body.find(f".//{ns}MaxEnvelopeSizekb").text
    cbt = body.find(f".//{ns}Auth/{ns}CbtHardeningLevel").text
    print("config ->", size, cbt, "max payload", wsman.max_payload_size)
    assert size == "150" and cbt == "Relaxed"

    p = Process(shell, "echo", ["hello", "from", "pypsrp"])
    p.invoke()
    p.signal(SignalCode.CTRL_C)
    print("echo ->", repr(p.stdout), p.rc)
    assert p.stdout == b"hello from pypsrp\r\n" and p.rc == 0

    p = Process(shell, "cmd /c exit 5")
    p.invoke()
    p.signal(SignalCode.CTRL_C)
    print("exit 5 ->", p.rc)
    assert p.rc == 5

    p = Process(shell, "type")
    p.begin_invoke()
    p.send(b"stdin via pypsrp", end=True)
    p.end_invoke()
    p.signal(SignalCode.CTRL_C)
    print("stdin ->", repr(p.stdout), p.rc)
    assert p.stdout == b"stdin via pypsrp" and p.rc == 0
print("pypsrp flows ok")
