"""pyspnego's NTLM acceptor behind a line protocol, for differential tests of our NTLM client.

stdin lines:  TOKEN <base64>   -> TOKEN <base64> | DONE <base64 or ->
              WRAP <base64 of header||ciphertext>  -> WRAP <base64 of header||ciphertext of the
                                                       reversed plaintext>
Credentials come from NTLM_USER_FILE (DOMAIN:USER:PASSWORD per line), as pyspnego reads them.
"""
import base64
import sys

import spnego

ctx = spnego.server(protocol="ntlm", options=spnego.NegotiateOptions.use_ntlm)
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
    except Exception as e:  # report, never hang the peer
        print(f"ERROR {type(e).__name__}: {e}", flush=True)
