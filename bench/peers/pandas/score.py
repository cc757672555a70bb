"""The peer for `ortline score`: a CSV file scored the way a pandas user writes the nightly job.

    python score.py MODEL_DIR INPUT.csv OUTPUT.csv REJECTS.csv [CHUNK_ROWS]

pandas reads the file in chunks (memory bounded, as ortline's), checks each row against the model
card (numbers parse and lie in range, categories are known, required values are there), runs the
valid rows through ONNX Runtime (one intra-op thread, as ortline's default), and appends the id,
the probability, the risk category and the version to the output; invalid rows go to the reject
file. Prints one JSON line: rows, scored, rejected, seconds.
"""

import json
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pandas as pd


def main() -> None:
    model_dir, input_path, output_path, rejects_path = (Path(a) for a in sys.argv[1:5])
    chunk_rows = int(sys.argv[5]) if len(sys.argv) > 5 else 65536
    started = time.perf_counter()
    card = json.loads((model_dir / "model.json").read_text())
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(model_dir / "model.onnx"), options, providers=["CPUExecutionProvider"])
    output_name, output_index = card["output"]["name"], card["output"]["index"]
    maxes = np.array([t["max"] for t in card["risk_thresholds"]])
    categories = np.array([t["category"] for t in card["risk_thresholds"]], dtype=object)
    id_field = "customerID"
    version = model_dir.name
    rows = scored = rejected = 0
    first = True
    for chunk in pd.read_csv(input_path, chunksize=chunk_rows, dtype=str, keep_default_na=False):
        valid = np.ones(len(chunk), dtype=bool)
        feeds = {}
        for f in card["features"]:
            text = chunk[f["name"]].str.strip()
            missing = (text == "").to_numpy()
            if f["kind"] == "numeric":
                values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)
                bad = np.isnan(values) & ~missing
                if f.get("min") is not None:
                    bad |= values < f["min"]
                if f.get("max") is not None:
                    bad |= values > f["max"]
                if f.get("integer"):
                    bad |= ~missing & (np.floor(values) != values)
                feeds[f["name"]] = values.astype(np.float32).reshape(-1, 1)
            else:
                bad = ~missing & ~text.isin(f["categories"]).to_numpy()
                feeds[f["name"]] = text.to_numpy(dtype=object).reshape(-1, 1)
            if f["required"]:
                bad |= missing
            valid &= ~bad
        rows += len(chunk)
        good = {name: column[valid] for name, column in feeds.items()}
        if valid.any():
            probabilities = session.run([output_name], good)[0][:, output_index]
            bands = np.minimum(np.searchsorted(maxes, probabilities, side="left"), len(maxes) - 1)
            pd.DataFrame(
                {
                    id_field: chunk[id_field].to_numpy()[valid],
                    "churn_probability": probabilities,
                    "risk_category": categories[bands],
                    "model_version": version,
                }
            ).to_csv(output_path, mode="w" if first else "a", header=first, index=False)
        elif first:
            pd.DataFrame(columns=[id_field, "churn_probability", "risk_category", "model_version"]).to_csv(
                output_path, index=False
            )
        chunk[~valid].to_csv(rejects_path, mode="w" if first else "a", header=first, index=False)
        first = False
        scored += int(valid.sum())
        rejected += int((~valid).sum())
    seconds = time.perf_counter() - started
    print(json.dumps({"rows": rows, "scored": scored, "rejected": rejected, "seconds": seconds}))


if __name__ == "__main__":
    main()
