"""PyTorch side of bench/cuda_gemm.ts: times torch.matmul on the GPU for the cases given as JSON
on stdin and prints one JSON object: {"torch": version, "device": name, "results": [...]}, or
{"error": why} when torch or CUDA is missing.

Same arithmetic as mmcot: fp32 without TF32, bf16 with fp32 accumulation (no reduced-precision
reductions). Each case: warm-up calls, then CUDA-event timing of `iters` calls into a
preallocated output, median over `rounds` rounds.
"""
import json
import sys


def main() -> None:
    spec = json.load(sys.stdin)
    try:
        import torch
    except Exception as e:  # noqa: BLE001 - report any import failure
        print(json.dumps({"error": f"torch not importable: {e}"}))
        return
    if not torch.cuda.is_available():
        print(json.dumps({"error": f"torch {torch.__version__}: torch.cuda.is_available() is False"}))
        return
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cuda.matmul.allow_bf16_reduced_precision_reduction = False
    dev = torch.device("cuda")
    results = []
    for case in spec["cases"]:
        dtype = torch.float32 if case["dtype"] == "f32" else torch.bfloat16
        batch, m, n, k = case["batch"], case["m"], case["n"], case["k"]
        lead = [batch] if batch > 1 else []
        a = torch.rand(*lead, *( [k, m] if case["transA"] else [m, k]), device=dev, dtype=dtype) * 2 - 1
        b = torch.rand(*lead, *( [n, k] if case["transB"] else [k, n]), device=dev, dtype=dtype) * 2 - 1
        opa = a.transpose(-1, -2) if case["transA"] else a
        opb = b.transpose(-1, -2) if case["transB"] else b
        c = torch.empty(*lead, m, n, device=dev, dtype=dtype)
        for _ in range(3):
            torch.matmul(opa, opb, out=c)
        torch.cuda.synchronize()
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        torch.matmul(opa, opb, out=c)
        end.record()
        end.synchronize()
        first = start.elapsed_time(end) / 1e3
        iters = max(3, min(200, int(spec["seconds"] / max(first, 1e-6)) + 1))
        times = []
        for _ in range(spec["rounds"]):
            start.record()
            for _ in range(iters):
                torch.matmul(opa, opb, out=c)
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end) / 1e3 / iters)
        times.sort()
        results.append({"name": case["name"], "dtype": case["dtype"], "seconds": times[len(times) // 2], "iters": iters})
    print(json.dumps({"torch": torch.__version__, "device": torch.cuda.get_device_name(0), "results": results}))


if __name__ == "__main__":
    main()
