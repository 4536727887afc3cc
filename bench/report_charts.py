#!/usr/bin/env python3
"""bench/report_charts.py — the PNG charts of docs/performance.md.

Used by bench/report: each function takes the Results of one benchmark
(bench/report_results.py) and writes one PNG with gnuplot (Debian package
gnuplot-nox), pngcairo when the gnuplot build has it, else png. Data and
script go to a temporary folder that is removed afterwards.

Every chart has a title, axis labels with units and a legend; a value
axis whose figures span more than 10x is logarithmic.

Only the Python standard library and the gnuplot program are used.
"""

import os
import shutil
import subprocess
import tempfile

GNUPLOT_TIMEOUT = 60  # seconds, bound on one gnuplot run
COLORS = {"posthorn": "#1f77b4", "peer": "#d62728", "peer2": "#2ca02c",
          "peer3": "#7f7f7f"}


class ChartError(Exception):
    pass


def gnuplot_path():
    return shutil.which("gnuplot")


def ensure_gnuplot():
    """Returns the gnuplot path, installing gnuplot-nox with apt-get when
    it is missing (as root, or through sudo); raises ChartError if it
    cannot."""
    path = gnuplot_path()
    if path:
        return path
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    if shutil.which("apt-get") is None:
        raise ChartError("gnuplot is missing and apt-get is not there to "
                         "install it; install gnuplot or use --no-charts")
    print("== installing gnuplot-nox (for the charts)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = sudo + ["apt-get", "install", "-y", "-q", "--no-install-recommends",
                  "gnuplot-nox"]
    rc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL).returncode
    if rc != 0:
        subprocess.run(sudo + ["apt-get", "update", "-q"], env=env,
                       stdout=subprocess.DEVNULL)
        rc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL).returncode
    path = gnuplot_path()
    if rc != 0 or not path:
        raise ChartError("could not install gnuplot-nox; install gnuplot or "
                         "run bench/report --no-charts")
    return path


def terminal(gnuplot):
    probe = subprocess.run([gnuplot, "-e", "set terminal pngcairo"],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    if probe.returncode == 0:
        return "pngcairo enhanced font 'Sans,10'"
    return "png enhanced"


def _log_if_wide(values, axis="y"):
    vals = [v for v in values if v is not None and v > 0]
    if vals and max(vals) / min(vals) > 10:
        return f"set logscale {axis}\n"
    return f"unset logscale {axis}\n"


def _cell(v):
    return "-" if v is None else f"{v:g}"


class Plotter:
    def __init__(self, gnuplot, outdir):
        self.gnuplot = gnuplot
        self.term = terminal(gnuplot)
        self.outdir = outdir
        os.makedirs(outdir, exist_ok=True)

    def run(self, name, script, data, size="1100,480"):
        """Writes data files (name -> text), runs script, returns the PNG
        file name."""
        png = os.path.join(self.outdir, name)
        with tempfile.TemporaryDirectory(prefix="posthorn-report-") as tmp:
            for fname, text in data.items():
                with open(os.path.join(tmp, fname), "w",
                          encoding="utf-8") as f:
                    f.write(text)
            full = (f"set terminal {self.term} size {size}\n"
                    f"set output '{png}'\n"
                    "set datafile missing '-'\n"
                    "set datafile separator '\\t'\n"
                    "set grid ytics\n"
                    "set key outside right top vertical\n" + script +
                    "\nunset output\n")
            with open(os.path.join(tmp, "chart.gp"), "w",
                      encoding="utf-8") as f:
                f.write(full)
            proc = subprocess.run([self.gnuplot, "chart.gp"], cwd=tmp,
                                  capture_output=True, text=True,
                                  timeout=GNUPLOT_TIMEOUT)
            if proc.returncode != 0:
                raise ChartError(f"gnuplot failed on {name}: "
                                 f"{proc.stderr.strip()[-500:]}")
        return name

    # --- lines against sessions --------------------------------------------
    def sessions_lines(self, name, title, panels, servers, variants, ylabel,
                       xlabel="parallel sessions"):
        """panels: [(panel title, {(server, variant, sessions): value})];
        servers: [(column, legend)], variants: [(variant, legend)] (message
        sizes, login methods). One line per server per variant, x =
        sessions (log scale)."""
        data, script = {}, []
        allvals = [v for _, cells in panels for v in cells.values()]
        sessions = sorted({k[2] for _, cells in panels for k in cells})
        xt = ", ".join(f'"{s}" {s}' for s in sessions)
        script.append(f"set multiplot layout 1,{len(panels)} "
                      f"title '{title}' font ',12'")
        script.append("set logscale x")
        script.append(f"set xtics ({xt})")
        script.append(f"set xlabel '{xlabel}'")
        script.append(f"set ylabel '{ylabel}'")
        script.append(f"set xrange [{min(sessions) * 0.8}:"
                      f"{max(sessions) * 1.25}]")
        log = _log_if_wide(allvals)
        script.append(log)
        # A linear axis starts at 0, so that the gaps look as large as
        # they are.
        script.append("set yrange [*:*]" if log.startswith("set")
                      else "set yrange [0:*]")
        script.append("set key below horizontal maxcols 2 spacing 1.2")
        for p, (ptitle, cells) in enumerate(panels):
            plots = []
            for s, (server, legend) in enumerate(servers):
                color = COLORS["posthorn"] if s == 0 else COLORS["peer"]
                for d, (variant, vlegend) in enumerate(variants):
                    fname = f"p{p}_{s}_{d}.dat"
                    rows = [f"{n}\t{_cell(cells.get((server, variant, n)))}"
                            for n in sessions]
                    data[fname] = "\n".join(rows) + "\n"
                    plots.append(
                        f"'{fname}' using 1:2 with linespoints lw 2 pt "
                        f"{7 if d == 0 else 5} dt {1 if d == 0 else 2} "
                        f"lc rgb '{color}' title '{legend}, {vlegend}'")
            script.append(f"set title '{ptitle}'")
            script.append("plot " + ", \\\n     ".join(plots))
        script.append("unset multiplot")
        return self.run(name, "\n".join(script), data, size="1100,560")

    # --- grouped bars --------------------------------------------------------
    def grouped_bars(self, name, title, groups, series, ylabel,
                     one_line=False, size="1100,480", rotate=False):
        """groups: [(label, [value per series])]; series: [legend]."""
        allvals = [v for _, vals in groups for v in vals]
        scale_vals = allvals + ([1.0] if one_line else [])
        rows = [f"{label}\t" + "\t".join(_cell(v) for v in vals)
                for label, vals in groups]
        data = {"bars.dat": "\n".join(rows) + "\n"}
        colors = [COLORS["posthorn"], COLORS["peer"], COLORS["peer2"],
                  COLORS["peer3"]]
        log = _log_if_wide(scale_vals)
        script = [f"set title '{title}' font ',12'",
                  "set style data histogram",
                  "set style histogram clustered gap 1",
                  "set style fill solid 0.85 border -1",
                  "set boxwidth 0.9",
                  f"set ylabel '{ylabel}'", log,
                  "set xtics nomirror", "set key below horizontal"]
        positive = [v for v in scale_vals if v is not None and v > 0]
        if log.startswith("set") and positive:
            # Bars on a log axis start at the bottom of the range.
            script.append(f"set yrange [{min(positive) / 2:g}:"
                          f"{max(positive) * 2:g}]")
        else:
            script.append("set yrange [0:*]")
        if rotate:
            script.append("set xtics rotate by -30 left")
            script.append("set rmargin 12")  # room for the last label
        plots = []
        for i, legend in enumerate(series):
            src = "'bars.dat'" if i == 0 else "''"
            xt = ":xtic(1)" if i == 0 else ""
            plots.append(f"{src} using {i + 2}{xt} lc rgb "
                         f"'{colors[i % len(colors)]}' title '{legend}'")
        if one_line:
            plots.append("1 with lines lw 2 dt 2 lc rgb 'black' "
                         "title 'same speed as the peer'")
        script.append("plot " + ", \\\n     ".join(plots))
        return self.run(name, "\n".join(script), data, size=size)
