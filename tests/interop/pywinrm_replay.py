"""pywinrm against a replay server loaded with recordings pywinrm did not make (winrm4j's,
from Windows Server 2012): runs the recorded command and prints what the recording says.

Usage: pywinrm_replay.py URL USER PASSWORD
"""
import sys

import winrm

url, user, password = sys.argv[1:4]
session = winrm.Session(url, auth=(user, password), transport="basic", message_encryption="never")
r = session.run_cmd("echo myline")
print("echo myline ->", repr(r.std_out), repr(r.std_err), r.status_code)
assert r.std_out == b"myline\r\n" and r.status_code == 0, r
print("pywinrm replay ok")
