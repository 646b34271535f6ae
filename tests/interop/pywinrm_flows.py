"""pywinrm against a wsman-harness server: cmd flows with output, exit codes and stdin.

Usage: pywinrm_flows.py URL USER PASSWORD TRANSPORT ENCRYPTION
Prints a transcript; exits non-zero on the first wrong answer.
"""
import sys

import winrm

url, user, password, transport, encryption = sys.argv[1:6]
session = winrm.Session(url, auth=(user, password), transport=transport,
                        message_encryption=encryption)
print(f"pywinrm {winrm.__version__ if hasattr(winrm, '__version__') else ''} "
      f"transport={transport} encryption={encryption}")

r = session.run_cmd("echo", ["hello", "from", "pywinrm"])
print("echo ->", repr(r.std_out), repr(r.std_err), r.status_code)
assert r.std_out == b"hello from pywinrm\r\n", r.std_out
assert r.status_code == 0

r = session.run_cmd("cmd /c exit 7")
print("exit 7 ->", r.status_code)
assert r.status_code == 7

r = session.run_cmd("frobnicate")
print("unknown ->", r.status_code, repr(r.std_err))
assert r.status_code == 1 and b"not recognized" in r.std_err

p = session.protocol
shell = p.open_shell()
command = p.run_command(shell, "type")
p.send_command_input(shell, command, b"piped through stdin", end=True)
out, err, code = p.get_command_output(shell, command)
print("stdin ->", repr(out), code)
assert out == b"piped through stdin" and code == 0
p.cleanup_command(shell, command)
p.close_shell(shell)
print("pywinrm flows ok")
