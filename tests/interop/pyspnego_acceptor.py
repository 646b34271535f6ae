"""pyspnego's acceptor behind a line protocol, for differential tests of our clients.

stdin lines:  TOKEN <base64>   -> TOKEN <base64> | DONE <base64 or ->
              WRAP <base64 of header||ciphertext>  -> WRAP <base64 of header||ciphertext of the
                                                       reversed plaintext>   (NTLM: 16-byte header)
              WRAP2 <base64 header> <base64 data>  -> WRAP2 <header> <data>, the same for any
                                                       header length (Kerberos)
SPNEGO_PROTOCOL picks the acceptor: ntlm (default) or negotiate (SPNEGO; Kerberos keys from
KRB5_KTNAME). NTLM credentials come from NTLM_USER_FILE (DOMAIN:USER:PASSWORD per line), as
pyspnego reads them.
"""
import os
import base64
import sys

import spnego

protocol = os.environ.get("SPNEGO_PROTOCOL", "ntlm")
if protocol == "ntlm":
    ctx = spnego.server(protocol="ntlm", options=spnego.NegotiateOptions.use_ntlm)
else:
    ctx = spnego.server(protocol=protocol, service="HTTP")
for line in sys.stdin:
    kind, _, data = line.strip().partition(" ")
    try:
        if kind == "TOKEN":
            out = ctx.step(base64.b64decode(data))
            tag = "DONE" if ctx.complete else "TOKEN"
            print(f"{tag} {base64.b64encode(out).decode() if out else '-'}", flush=True)
        elif kind == "WRAP":
            raw = base64.b64decode(data)
            plain = ctx.unwrap_winrm(raw[:16], raw[16:])
            wrapped = ctx.wrap_winrm(plain[::-1])
            print(f"WRAP {base64.b64encode(wrapped.header + wrapped.data).decode()}", flush=True)
        elif kind == "WRAP2":
            header, _, data = data.partition(" ")
            plain = ctx.unwrap_winrm(base64.b64decode(header), base64.b64decode(data))
            wrapped = ctx.wrap_winrm(plain[::-1])
            print(f"WRAP2 {base64.b64encode(wrapped.header).decode()} "
                  f"{base64.b64encode(wrapped.data).decode()}", flush=True)
    except Exception as e:  # report, never hang the peer
        print(f"ERROR {type(e).__name__}: {e}", flush=True)
