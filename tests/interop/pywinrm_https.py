"""pywinrm over HTTPS with NTLM or Kerberos: channel binding sent or not, accepted or refused.

Usage: pywinrm_https.py URL USER PASSWORD SEND_CBT(yes|no) EXPECT(ok|refused) [TRANSPORT]
TRANSPORT is pywinrm's: ntlm (the default) or kerberos (tickets from the credential cache).
"""
import sys

import winrm
from winrm.exceptions import InvalidCredentialsError

url, user, password, send_cbt, expect = sys.argv[1:6]
transport = sys.argv[6] if len(sys.argv) > 6 else "ntlm"
session = winrm.Session(url, auth=(user, password), transport=transport,
                        server_cert_validation="ignore", send_cbt=(send_cbt == "yes"))
try:
    r = session.run_cmd("echo", ["over", "https"])
    outcome = "ok" if r.std_out == b"over https\r\n" and r.status_code == 0 else "wrong output"
except InvalidCredentialsError as e:
    outcome = "refused"
except Exception as e:  # requests-kerberos reports a refused ticket its own way
    if transport != "kerberos":
        raise
    outcome = "refused"
    print(f"{type(e).__name__}: {e}")
print(f"{transport} send_cbt={send_cbt}: {outcome}")
sys.exit(0 if outcome == expect else 1)
