"""Compile a Python file of apython's and write it as a C header holding
its marshalled code, for py/embed.c to run (build time only).

    freeze.py SOURCE HEADER

The code is made by the interpreter apython embeds (configure's
--with-python), so its marshal format is the one the binary reads; the
header records that version for a check at run time."""

import marshal
import re
import sys


def main(source, header):
    with open(source, encoding="utf-8") as f:
        text = f.read()
    code = compile(text, "<apython>/" + source, "exec", dont_inherit=True,
                   optimize=0)
    data = marshal.dumps(code)
    name = re.sub(r"\W", "_", source[:-len(".py")]) + "_code"
    version = "0x%02X%02X0000" % sys.version_info[:2]
    lines = ["/* Made by py/freeze.py from %s: do not edit. */" % source,
             "static const unsigned long %s_version = %s;" % (name, version),
             "static const unsigned char %s[] = {" % name]
    for i in range(0, len(data), 16):
        lines.append("\t" + " ".join("%d," % b for b in data[i:i + 16]))
    lines.append("};")
    with open(header, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:])
