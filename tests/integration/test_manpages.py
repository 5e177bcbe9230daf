#!/usr/bin/env python3
"""The manual pages (docs/man/): they render, and they do not drift.

* groff renders each page as man(7) with every warning on (-ww) and prints
  nothing on stderr; `man -l` (man-db) renders it too;
* every long and short option that a program's --help lists, and for the
  CLIs every command's --help, appears in the program's page, and so does
  every command of the CLIs;
* the version in each page's header is the build's.

Environment: DVS_MAN_DIR (the pages with the version filled in; set by meson
test), DVS_SWITCHD, DVS_SWITCHCTL, DVS_DVSCTL, DVS_DVSMGR (the programs).
Run: meson test -C build manpages
"""

import os
import re
import shutil
import subprocess
import sys
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dvstest  # noqa: E402

MAN_DIR = os.environ.get("DVS_MAN_DIR") or os.path.join(dvstest.SRC_ROOT, "build/docs/man")
BUILD = os.path.dirname(os.path.dirname(MAN_DIR))
PROGRAMS = {
    "dvs-switchd.8": os.environ.get("DVS_SWITCHD")
    or os.path.join(BUILD, "qemu-netdev-dvs/dvs-switchd"),
    "dvsmgr.8": os.environ.get("DVS_DVSMGR") or os.path.join(BUILD, "dvsmgr/core/dvsmgr"),
    "dvsctl.1": os.environ.get("DVS_DVSCTL") or os.path.join(BUILD, "dvsmgr/dvsctl/dvsctl"),
    "dvs-switchctl.1": os.environ.get("DVS_SWITCHCTL")
    or os.path.join(BUILD, "qemu-netdev-dvs/switchctl/dvs-switchctl"),
}
CLIS = ("dvsctl.1", "dvs-switchctl.1")
# An option at the start of a --help line: "-c, --config=FILE", "--json".
OPTION_LINE = re.compile(r"^\s*(-[A-Za-z](?:,\s*)?)?(--[a-z][a-z0-9-]*)?")
COMMAND_LINE = re.compile(r"^  ([a-z][a-z-]*(?: [a-z][a-z-]*)?)(?=\s|$)")


def run(argv, env=None, timeout=30):
    cp = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)
    return cp


def help_text(prog, args=()):
    cp = run([prog] + list(args) + ["--help"])
    if cp.returncode != 0:
        raise AssertionError("%s %s --help: exit %d\n%s" % (prog, " ".join(args),
                                                            cp.returncode, cp.stderr))
    return cp.stdout


def options_in(text):
    """The options a --help text lists at the start of its lines."""
    found = set()
    for line in text.splitlines():
        m = OPTION_LINE.match(line)
        if m is None:
            continue
        if m.group(1):
            found.add(m.group(1).rstrip(", "))
        if m.group(2):
            found.add(m.group(2))
    return found


def commands_in(text):
    """The commands of a CLI's --help, from its "Commands:" section: "show",
    "switch create" (the words before the arguments)."""
    section = text.split("Commands:", 1)[1].split("\nOptions", 1)[0]
    cmds = []
    for line in section.splitlines():
        m = COMMAND_LINE.match(line)
        if m:
            words = m.group(1).split()
            # "diff FILE1 FILE2": upper-case words are arguments, already cut;
            # a one-word command followed by a lower-case word is a group.
            cmds.append(" ".join(words))
    return cmds


def render(page, device="ascii"):
    """The page as plain text (ascii: '-' stays '-'), and groff's stderr."""
    cp = run(["groff", "-man", "-T" + device, "-ww", "-rLL=200n", "-P-c", "-P-b", "-P-u",
              os.path.join(MAN_DIR, page)])
    return cp.stdout, cp.stderr, cp.returncode


class ManPagesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if shutil.which("groff") is None:
            raise unittest.SkipTest("no groff (package groff-base)")
        for page, prog in PROGRAMS.items():
            if not os.access(prog, os.X_OK):
                raise unittest.SkipTest("%s not built (%s)" % (prog, page))

    def test_pages_render_without_warnings(self):
        for page in PROGRAMS:
            for device in ("utf8", "ascii"):
                with self.subTest(page=page, device=device):
                    out, err, rc = render(page, device)
                    self.assertEqual(rc, 0, err)
                    self.assertEqual(err.strip(), "", "groff warned")
                    self.assertIn("NAME", out)
                    self.assertIn("SEE ALSO", out)

    def test_man_renders_pages(self):
        if shutil.which("man") is None:
            self.skipTest("no man (package man-db)")
        env = dict(os.environ, MANWIDTH="100", MAN_KEEP_FORMATTING="0")
        for page in PROGRAMS:
            with self.subTest(page=page):
                cp = run(["man", "-l", "-Tutf8", "--warnings=w",
                          os.path.join(MAN_DIR, page)], env=env)
                self.assertEqual(cp.returncode, 0, cp.stderr)
                self.assertEqual(cp.stderr.strip(), "", "man warned")

    def test_version_in_header(self):
        for page in PROGRAMS:
            with self.subTest(page=page):
                with open(os.path.join(MAN_DIR, page), encoding="utf-8") as f:
                    head = f.readline()
                self.assertRegex(head, r'^\.TH \S+ [18] ')
                self.assertNotIn("@", head, "the version placeholder is left")
                self.assertRegex(head, r'"dvs \d+\.\d+\.\d+"')

    def page_text(self, page):
        out, _, _ = render(page)
        # A word may be broken after a hyphen at a line end: join it.
        out = re.sub(r"(?<=[\w-])-\n\s*", "-", out)
        return re.sub(r"\s+", " ", out)

    def test_every_option_in_page(self):
        for page, prog in PROGRAMS.items():
            top = help_text(prog)
            texts = [top]
            if page in CLIS:
                texts += [help_text(prog, cmd.split()) for cmd in commands_in(top)
                          if cmd != "help"]
            wanted = set().union(*(options_in(t) for t in texts))
            self.assertIn("--help", wanted, "the option parser found nothing")
            text = self.page_text(page)
            for opt in sorted(wanted):
                with self.subTest(page=page, option=opt):
                    self.assertRegex(text, r"(?<![\w-])%s(?![\w-])" % re.escape(opt),
                                     "in --help, not in the page")

    def test_every_command_in_page(self):
        for page in CLIS:
            text = self.page_text(page)
            for cmd in commands_in(help_text(PROGRAMS[page])):
                with self.subTest(page=page, command=cmd):
                    self.assertRegex(text, r"(?<![\w-])%s(?![\w-])" % re.escape(cmd),
                                     "in --help, not in the page")


if __name__ == "__main__":
    dvstest.main()
