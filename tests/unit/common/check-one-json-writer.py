#!/usr/bin/env python3
"""Every JSON text the project writes goes through common/dvs-json-write.c
(json-glib 1.6 leaves U+001F unescaped): fails naming each other place that
calls json-glib's generator directly.  Usage: check-one-json-writer.py SRCDIR"""
import os
import re
import sys

ALLOWED = {
    os.path.join('common', 'dvs-json-write.c'),
    # compares the writer's text with json-glib's own
    os.path.join('tests', 'unit', 'common', 'test-json-write.c'),
}
CALL = re.compile(r'\b(json_to_string|json_generator_\w+|json_gobject_to_data|'
                  r'json_gvariant_serialize_data)\s*\(')


def main():
    root = sys.argv[1]
    found = []
    for top, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith('.') and not d.startswith('build')]
        for name in files:
            if not name.endswith(('.c', '.h')):
                continue
            path = os.path.join(top, name)
            rel = os.path.relpath(path, root)
            if rel in ALLOWED:
                continue
            with open(path, encoding='utf-8', errors='replace') as f:
                for n, line in enumerate(f, 1):
                    code = line.split('//')[0]
                    if CALL.search(code) and not code.lstrip().startswith(('*', '/*')):
                        found.append(f'{rel}:{n}: {line.strip()}')
    for f in found:
        print(f'writes JSON without dvs_json_write(): {f}')
    print(f'{len(found)} direct json-glib generator call(s) outside common/dvs-json-write.c')
    return 1 if found else 0


if __name__ == '__main__':
    sys.exit(main())
