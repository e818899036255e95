"""Ensemble engine versus a per-model PyTorch loop and a torch.func.vmap ensemble, side by side.

The same training work three ways: K one-hidden-layer relu MLPs (D -> hidden -> 1, the models
package's 1/sqrt(fan_in) parameterisation), logistic loss, plain SGD with mini-batches, one epoch,
on one shared training set. Each variant, inside its timed region, (i) draws every model's data
order from that model's own ``torch.Generator`` (one ``randperm`` per model per epoch, the same
orders in all three), (ii) gathers the mini-batches, (iii) trains, and (iv) evaluates every model's
final training loss and error on the whole training set (what ``models.train`` reports):

(a) engine: ``models.train`` on one K-member ensemble (batched matmuls over the member dimension,
    hand-written backward pass);
(b) loop: K ``nn.Module``s trained one after the other, each with its own ``torch.optim.SGD``
    (foreach), ``zero_grad(set_to_none=True)``, its data permuted once per epoch and sliced into
    batches: what a careful user writes;
(c) vmap: ``torch.func.stack_module_state`` + ``functional_call`` + ``vmap(grad(loss))`` with an
    in-place SGD update on the stacked params.

It also measures, in the same run, the machine's sgemm rate (float32 ``torch.mm`` of two 1024 x
1024 matrices) and the rate of the step's own batched products alone (``torch.bmm`` of (K, batch,
D) by (K, D, hidden), forward and weight-gradient shapes), and reports the fraction of each that
the engine achieves (matmul FLOPs of the steps' forward + backward and of the final evaluation,
over CPU time; the sgemm and bmm rates are from CPU time too). ``loop_over_floor`` is the loop's CPU
time over the time of those FLOPs at the sgemm rate: the ceiling of the loop / engine ratio on this
machine, for an engine whose every FLOP ran at the sgemm rate and that did nothing else. Times are
best-of-N wall-clock seconds and best-of-N process CPU seconds (with one torch thread the CPU time is
the work done, less sensitive to other processes on a shared machine). Ratios are the point: absolute
times move with the machine's load.

    python benchmarks/ensemble.py [--quick] [--ks 1,16,64] [--steps N] [--threads N] [--json] [--record]
                                  [--baseline DIR] [--device cuda] [--compile]

``--threads`` defaults to 1 (all variants run with the same setting; the header says which);
``--record`` appends the run to benchmarks/RESULTS.md; ``--json`` prints, as the last line, a JSON
list of {K, engine_s, loop_s, vmap_s, engine_cpu_s, loop_cpu_s, vmap_cpu_s, sgemm_fraction,
bmm_fraction, loop_over_floor} (with ``--baseline``, also baseline_cpu_s and engine_ab_cpu_s).
``--baseline DIR`` (another checkout of the repository, e.g. ``git worktree add /tmp/base COMMIT``) also times that
tree's engine on the same work, its ``models`` imported next to this tree's and the two interleaved
``--baseline-rounds`` times (best CPU seconds of each): the before/after of a change, side by side
in one run, under the same load.

``--compile`` also times the engine with ``TrainConfig(compile=True)`` (its step through
``torch.compile``) on the same work, beside the eager engine: its first call (which compiles the
step for the run's shapes, with inductor's on-disk cache off, so the cold cost) and best-of-N
steady-state calls; the compile time is the first call minus the steady state (wall and CPU
seconds), reported apart, and the sgemm fraction is given both ways. The JSON rows then also hold
compiled_s, compiled_cpu_s, compile_s, compile_cpu_s and compiled_sgemm_fraction. Where
torch.compile cannot build kernels, the compiled engine falls back to the eager step (a
``CompileFallbackWarning``, and compiled_fallback true in the row).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import torch
from torch import nn
from torch.func import functional_call, grad, stack_module_state, vmap

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import models  # noqa: E402


class Scaled(nn.Module):
    """x -> relu(W1 x / sqrt D + b1) . w2 / sqrt h + b2, as models' "mlp"."""

    def __init__(self, D: int, h: int):
        super().__init__()
        self.l1 = nn.Linear(D, h)
        self.l2 = nn.Linear(h, 1)
        self.s1, self.s2 = 1 / math.sqrt(D), 1 / math.sqrt(h)

    def forward(self, x):
        return self.l2(torch.relu(self.l1(x * self.s1)) * self.s2).squeeze(-1)


DEVICE = torch.device("cpu")  # where everything runs (--device)


def _sync():
    if DEVICE.type == "cuda":
        torch.cuda.synchronize(DEVICE)


def _timed2(fn, repeats: int) -> tuple[float, float]:
    """(best wall-clock seconds, best process CPU seconds) over ``repeats`` calls (on a GPU, the
    wall clock up to the end of the device's work)."""
    wall = cpu = math.inf
    for _ in range(repeats):
        _sync()
        t, c = time.perf_counter(), time.process_time()
        fn()
        _sync()
        cpu = min(cpu, time.process_time() - c)
        wall = min(wall, time.perf_counter() - t)
    return wall, cpu


def _work(wall: float, cpu: float) -> float:
    """The seconds a rate is taken from: CPU seconds on the CPU (on a shared machine the wall clock
    also counts the time other processes held the core), wall seconds on a GPU."""
    return cpu if DEVICE.type == "cpu" else wall


def _timed(fn, repeats: int) -> float:
    return _work(*_timed2(fn, repeats))


def sgemm_rate(n: int = 1024, repeats: int = 5) -> float:
    a, b = torch.randn(n, n, device=DEVICE), torch.randn(n, n, device=DEVICE)
    torch.mm(a, b)
    return 2 * n ** 3 / _timed(lambda: torch.mm(a, b), repeats)


def bmm_rate(K: int, D: int, hidden: int, batch: int, repeats: int = 5) -> float:
    """FLOP/s of the training step's two big batched products alone: forward (K, batch, D) @
    (K, D, hidden) and weight gradient (K, D, batch) @ (K, batch, hidden)."""
    x, w, gz = (torch.randn(*shape, device=DEVICE) for shape in
                ((K, batch, D), (K, D, hidden), (K, batch, hidden)))
    xt = x.transpose(1, 2)

    def both():
        torch.bmm(x, w)
        torch.bmm(xt, gz)
    both()
    return 4 * K * batch * D * hidden / _timed(both, repeats)


def bench_k(K: int, D: int, hidden: int, batch: int, steps: int, lr: float, engines,
            repeats: int) -> dict:
    P = batch * steps  # one epoch of `steps` mini-batches
    g = torch.Generator().manual_seed(0)
    X = torch.randn(P, D, generator=g).to(DEVICE)
    y = torch.sign(X[:, 0] + 0.5 * X[:, 1])
    seeds = list(range(K))
    cfg = models.TrainConfig(loss="logistic", lr=lr, epochs=1, batch_size=batch)
    out = {"K": K}

    def orders():
        """Every model's data order from its own generator, as models.train draws them."""
        return [torch.randperm(P, generator=torch.Generator().manual_seed(s)).to(DEVICE)
                for s in seeds]

    if "engine" in engines:
        ens0 = models.make_ensemble("mlp", K, D, hidden=(hidden,), seeds=seeds, device=DEVICE)

        def run_engine():
            rep = models.train(ens0.clone(), X, y, cfg, seeds=seeds)
            return rep.train_loss, rep.train_error
        out["engine_s"], out["engine_cpu_s"] = _timed2(run_engine, repeats)

    if "compiled" in engines:
        ens1 = models.make_ensemble("mlp", K, D, hidden=(hidden,), seeds=seeds, device=DEVICE)
        ccfg = models.TrainConfig(loss="logistic", lr=lr, epochs=1, batch_size=batch, compile=True)

        def run_compiled():
            rep = models.train(ens1.clone(), X, y, ccfg, seeds=seeds)
            return rep.train_loss, rep.train_error
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", models.CompileFallbackWarning)
            first_s, first_cpu_s = _timed2(run_compiled, 1)  # compiles the step for its shapes
        out["compiled_fallback"] = any(issubclass(w.category, models.CompileFallbackWarning)
                                       for w in caught)
        out["compiled_s"], out["compiled_cpu_s"] = _timed2(run_compiled, repeats)
        out["compile_s"] = first_s - out["compiled_s"]
        out["compile_cpu_s"] = first_cpu_s - out["compiled_cpu_s"]

    if "loop" in engines:
        nets = [Scaled(D, hidden).to(DEVICE) for _ in range(K)]

        def run_loop():
            final = []
            for net, perm in zip(nets, orders()):
                opt = torch.optim.SGD(net.parameters(), lr=lr, foreach=True)
                Xp, yp = X[perm], y[perm]  # one gather per epoch, then contiguous slices
                for s in range(steps):
                    xb, yb = Xp[s * batch:(s + 1) * batch], yp[s * batch:(s + 1) * batch]
                    opt.zero_grad(set_to_none=True)
                    nn.functional.softplus(-yb * net(xb)).mean().backward()
                    opt.step()
                with torch.no_grad():
                    f = net(X)
                    final.append((nn.functional.softplus(-y * f).mean().item(),
                                  (torch.sign(f) != y).float().mean().item()))
            return final
        out["loop_s"], out["loop_cpu_s"] = _timed2(run_loop, repeats)

    if "vmap" in engines:
        base = [Scaled(D, hidden).to(DEVICE) for _ in range(K)]
        stacked, buffers = stack_module_state(base)
        skeleton = Scaled(D, hidden).to("meta")

        def loss_one(p, b, xb, yb):
            return nn.functional.softplus(-yb * functional_call(skeleton, (p, b), (xb,))).mean()
        grads_all = vmap(grad(loss_one), in_dims=(0, 0, 0, 0))
        outputs = vmap(lambda p, b: functional_call(skeleton, (p, b), (X,)), in_dims=(0, 0))

        def run_vmap():
            p = {n: t.detach().clone() for n, t in stacked.items()}
            perms = torch.stack(orders())
            for s in range(steps):
                idx = perms[:, s * batch:(s + 1) * batch]
                gr = grads_all(p, buffers, X[idx], y[idx])
                torch._foreach_add_(list(p.values()), list(gr.values()), alpha=-lr)
            with torch.no_grad():
                f = outputs(p, buffers)
                return (nn.functional.softplus(-y * f).mean(-1).cpu().numpy(),
                        (torch.sign(f) != y).float().mean(-1).cpu().numpy())
        out["vmap_s"], out["vmap_cpu_s"] = _timed2(run_vmap, repeats)

    # forward + weight-gradient products of the steps, and the final forward pass on P examples
    flops = K * (steps * (4 * batch * D * hidden + 6 * batch * hidden) + P * (2 * D * hidden +
                                                                              2 * hidden))
    out["flops"] = flops
    out["engine_gflops"] = (flops / _work(out["engine_s"], out["engine_cpu_s"]) / 1e9
                            if "engine_s" in out else None)
    if "compiled_s" in out:
        out["compiled_gflops"] = flops / _work(out["compiled_s"], out["compiled_cpu_s"]) / 1e9
    return out


def load_models(tree: str, name: str = "models_baseline"):
    """The ``models`` package of another checkout of the repository, imported as ``name``."""
    import importlib.util

    root = Path(tree) / "models"
    spec = importlib.util.spec_from_file_location(name, root / "__init__.py",
                                                  submodule_search_locations=[str(root)])
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def before_after(baseline, K: int, D: int, hidden: int, batch: int, steps: int, rounds: int
                 ) -> tuple[float, float]:
    """Best CPU seconds of ``baseline.train`` and of this tree's ``models.train`` on the engine's
    work (one epoch, the final evaluation included), interleaved in this process ``rounds``
    times (the order swapped every round), so both see the same load."""
    P = batch * steps
    g = torch.Generator().manual_seed(0)
    X = torch.randn(P, D, generator=g).to(DEVICE)
    y = torch.sign(X[:, 0] + 0.5 * X[:, 1])
    best = {"before": math.inf, "after": math.inf}
    trees = [("before", baseline), ("after", models)]
    for r in range(rounds):
        for which, m in (trees if r % 2 == 0 else trees[::-1]):
            ens0 = m.make_ensemble("mlp", K, D, hidden=(hidden,), seeds=range(K), device=DEVICE)
            cfg = m.TrainConfig(loss="logistic", lr=0.1, epochs=1, batch_size=batch)
            seconds = _timed(lambda: m.train(ens0.clone(), X, y, cfg, seeds=range(K)), 1)
            best[which] = min(best[which], seconds)
    return best["before"], best["after"]


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    if DEVICE.type == "cuda":
        cpu = f"{torch.cuda.get_device_name(DEVICE)} (host {cpu})"
    return (f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__}, "
            f"{torch.get_num_threads()} torch threads, load average {load:.1f} at start")


def main(argv=None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ks", default="1,16,64,256,1024", help="comma-separated ensemble sizes")
    ap.add_argument("--quick", action="store_true", help="K in 1,16,64, fewer steps")
    ap.add_argument("--steps", type=int, default=None, help="SGD steps per run (default 16)")
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=None, help="best of N (default 3, quick 2)")
    ap.add_argument("--loop-max-k", type=int, default=256,
                    help="above this K the loop is timed on 256 models and scaled linearly")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch intra-op threads for all variants (default 1: on a small shared "
                         "machine more threads oversubscribe the cores; 0 = torch's default)")
    ap.add_argument("--baseline", default=None,
                    help="another checkout of the repository whose engine is timed side by side")
    ap.add_argument("--baseline-rounds", type=int, default=10, help="alternations of the two trees")
    ap.add_argument("--device", default="cpu",
                    help="cpu (default) or a CUDA device: every variant runs there; on a GPU the "
                         "rates and the before/after come from wall seconds, read the wall ratios")
    ap.add_argument("--compile", action="store_true",
                    help="also time the engine with TrainConfig(compile=True), its compile time "
                         "apart")
    ap.add_argument("--json", action="store_true", help="print a JSON list as the last line")
    ap.add_argument("--record", action="store_true", help="append the run to benchmarks/RESULTS.md")
    args = ap.parse_args(argv)
    global DEVICE
    DEVICE = torch.device(args.device)
    if DEVICE.type not in ("cpu", "cuda") or (DEVICE.type == "cuda" and not torch.cuda.is_available()):
        ap.error(f"--device must be cpu or an available CUDA device, got {args.device!r}")
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.compile:  # the compile time of a first run on this machine, not an on-disk cache hit
        import torch._inductor.config as inductor_config
        inductor_config.fx_graph_cache = False
    ks = [1, 16, 64] if args.quick and args.ks == ap.get_default("ks") else \
        [int(k) for k in args.ks.split(",")]
    steps = args.steps or (8 if args.quick else 16)
    repeats = args.repeats or (2 if args.quick else 3)

    rate = sgemm_rate()
    head = machine()
    print(head)
    print(f"sgemm (1024^3, float32): {rate / 1e9:.1f} GFLOP/s; D={args.dim}, hidden={args.hidden}, "
          f"batch={args.batch}, {steps} SGD steps per model")
    print(f"{'K':>6} {'engine s':>9} {'loop s':>10} {'vmap s':>9} {'loop/eng':>9} "
          f"{'vmap/eng':>9} {'cpu loop/eng':>12} {'cpu vmap/eng':>12} {'sgemm frac':>10} "
          f"{'bmm frac':>9} {'cpu loop/floor':>14}")
    rows = []
    for K in ks:
        r = bench_k(K, args.dim, args.hidden, args.batch, steps, 0.1,
                    ("engine", "vmap") + (("compiled",) if args.compile else ()), repeats)
        kl = min(K, args.loop_max_k)
        rl = bench_k(kl, args.dim, args.hidden, args.batch, steps, 0.1, ("loop",),
                     1 if kl > 64 else repeats)
        r["loop_s"] = rl["loop_s"] * K / kl
        r["loop_cpu_s"] = rl["loop_cpu_s"] * K / kl
        r["loop_extrapolated"] = kl != K
        r["sgemm_fraction"] = r["engine_gflops"] * 1e9 / rate
        r["bmm_gflops"] = bmm_rate(K, args.dim, args.hidden, args.batch) / 1e9
        r["bmm_fraction"] = r["engine_gflops"] / r["bmm_gflops"]
        # the ceiling of loop / engine: an engine doing these FLOPs at the machine's sgemm rate and
        # nothing else (the bmm rate is no ceiling: a fresh output per call makes it slower than the
        # engine's products into reused buffers)
        r["loop_over_floor"] = r["loop_cpu_s"] / (r["flops"] / rate)
        if args.compile:
            r["compiled_sgemm_fraction"] = r["compiled_gflops"] * 1e9 / rate
        rows.append(r)
        print(_line(r, "{:>6} {:>9.4f} {:>10} {:>9.4f} {:>9.1f} {:>9.2f} {:>12.1f} {:>12.2f} "
                       "{:>10.3f} {:>9.3f} {:>14.1f}"))
    if args.baseline:
        baseline = load_models(args.baseline)
        print(f"engine of {args.baseline} (before) and of this tree (after), interleaved in this "
              f"process {args.baseline_rounds} times; best CPU seconds")
        print(f"{'K':>6} {'before s':>9} {'after s':>9} {'speed-up':>9}")
        for r in rows:
            before, after = before_after(baseline, r["K"], args.dim, args.hidden, args.batch, steps,
                                         args.baseline_rounds)
            r["baseline_cpu_s"], r["engine_ab_cpu_s"] = before, after
            print(f"{r['K']:>6} {before:>9.4f} {after:>9.4f} {before / after:>9.2f}")
    if args.compile:
        print("engine eager and compiled (TrainConfig(compile=True)), steady state best of "
              f"{repeats}; compile = first call minus steady state")
        print(f"{'K':>6} {'eager s':>9} {'comp s':>9} {'eager cpu':>9} {'comp cpu':>9} "
              f"{'cpu e/c':>8} {'compile s':>9} {'compile cpu':>11} {'sgemm e':>8} {'sgemm c':>8}")
        for r in rows:
            print(_compile_line(r, "{:>6} {:>9.4f} {:>9.4f} {:>9.4f} {:>9.4f} {:>8.2f} {:>9.2f} "
                                   "{:>11.2f} {:>8.3f} {:>8.3f}{}"))
        if any(r["compiled_fallback"] for r in rows):
            print("! torch.compile failed: the compiled rows are the eager step (fallback)")
    load_end = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average {load_end:.1f} at the end")
    if any(r["loop_extrapolated"] for r in rows):
        print(f"* loop timed on {args.loop_max_k} models and scaled linearly (it is a loop)")
    if args.record:
        _record(head, rate, args, steps, rows, load_end)
    keys = ("K", "engine_s", "loop_s", "vmap_s", "engine_cpu_s", "loop_cpu_s", "vmap_cpu_s",
            "sgemm_fraction", "bmm_fraction", "loop_over_floor") + (("baseline_cpu_s", "engine_ab_cpu_s")
                                                 if args.baseline else ()) + \
        (("compiled_s", "compiled_cpu_s", "compile_s", "compile_cpu_s", "compiled_sgemm_fraction",
          "compiled_fallback") if args.compile else ())
    out = [{k: r[k] for k in keys} for r in rows]
    if args.json:
        print(json.dumps(out))
    return out


def _line(r, fmt):
    star = "*" if r["loop_extrapolated"] else ""
    return fmt.format(r["K"], r["engine_s"], f"{r['loop_s']:.4f}{star}", r["vmap_s"],
                      r["loop_s"] / r["engine_s"], r["vmap_s"] / r["engine_s"],
                      r["loop_cpu_s"] / r["engine_cpu_s"], r["vmap_cpu_s"] / r["engine_cpu_s"],
                      r["sgemm_fraction"], r["bmm_fraction"], r["loop_over_floor"])


def _compile_line(r, fmt):
    return fmt.format(r["K"], r["engine_s"], r["compiled_s"], r["engine_cpu_s"],
                      r["compiled_cpu_s"], r["engine_cpu_s"] / r["compiled_cpu_s"], r["compile_s"],
                      r["compile_cpu_s"], r["sgemm_fraction"], r["compiled_sgemm_fraction"],
                      " (fallback)" if r["compiled_fallback"] else "")


def _record(head, rate, args, steps, rows, load_end):
    path = Path(__file__).with_name("RESULTS.md")
    lines = [f"\n### Run {time.strftime('%Y-%m-%d %H:%M')}: {head}, {load_end:.1f} at the end\n",
             f"sgemm {rate / 1e9:.1f} GFLOP/s; D={args.dim}, hidden={args.hidden}, "
             f"batch={args.batch}, {steps} steps. Wall seconds; ratios of wall and of CPU "
             f"seconds.\n\n",
             "| K | engine s | loop s | vmap s | loop / engine | vmap / engine | CPU loop / engine"
             " | CPU vmap / engine | sgemm fraction | bmm fraction | CPU loop / sgemm floor (ceiling of loop / engine) |\n",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"]
    for r in rows:
        lines.append(_line(r, "| {} | {:.4f} | {} | {:.4f} | {:.1f} | {:.2f} | {:.1f} | {:.2f} | "
                              "{:.3f} | {:.3f} | {:.1f} |") + "\n")
    if args.baseline:
        lines += [f"\nEngine before ({args.baseline}) and after (this tree), interleaved in one process "
                  f"{args.baseline_rounds} times, best CPU seconds:\n\n",
                  "| K | before CPU s | after CPU s | speed-up |\n", "|---:|---:|---:|---:|\n"]
        lines += [f"| {r['K']} | {r['baseline_cpu_s']:.4f} | {r['engine_ab_cpu_s']:.4f} | "
                  f"{r['baseline_cpu_s'] / r['engine_ab_cpu_s']:.2f} |\n" for r in rows]
    if args.compile:
        lines += ["\nEngine eager and compiled (TrainConfig(compile=True)), steady state; compile = "
                  "first call minus steady state:\n\n",
                  "| K | eager s | compiled s | eager CPU s | compiled CPU s | CPU eager / compiled "
                  "| compile s | compile CPU s | sgemm fraction eager | sgemm fraction compiled "
                  "|\n", "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"]
        lines += [_compile_line(r, "| {} | {:.4f} | {:.4f} | {:.4f} | {:.4f} | {:.2f} | {:.2f} | "
                                   "{:.2f} | {:.3f} | {:.3f}{} |") + "\n" for r in rows]
    with path.open("a") as f:
        f.writelines(lines)


if __name__ == "__main__":
    main()
