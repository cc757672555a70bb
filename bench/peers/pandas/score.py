"""The peer for `ortline score`: a file scored the way a pandas user writes the nightly job.

    python score.py MODEL_DIR INPUT OUTPUT REJECTS [CHUNK_ROWS]

CSV or Parquet by extension, in and out. pandas reads a CSV file in chunks, pyarrow a Parquet file
in record batches (memory bounded, as ortline's); each row is checked against the model card
(numbers parse and lie in range, categories are known, required values are there), the valid rows
run through ONNX Runtime (one intra-op thread, as ortline's default), and the id, the probability,
the risk category and the version are appended to the output (pandas' to_csv, or pyarrow's
ParquetWriter); invalid rows go to the reject file. Prints one JSON line: rows, scored, rejected,
seconds.
"""

import json
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


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
    out = Sink(output_path)
    bad_rows = Sink(rejects_path)
    parquet_in = input_path.suffix == ".parquet"
    for chunk, batch in chunks(input_path, chunk_rows):
        valid = np.ones(len(chunk), dtype=bool)
        feeds = {}
        for f in card["features"]:
            column = chunk[f["name"]]
            # CSV cells are text (trimmed, "" missing); Parquet's are typed (null missing).
            text = column if parquet_in else column.str.strip()
            missing = column.isna().to_numpy() if parquet_in else (text == "").to_numpy()
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
        probabilities = np.zeros(0, dtype=np.float32)
        if valid.any():
            probabilities = session.run([output_name], good)[0][:, output_index]
        bands = np.minimum(np.searchsorted(maxes, probabilities, side="left"), len(maxes) - 1)
        out.write(
            pd.DataFrame(
                {
                    id_field: chunk[id_field].to_numpy()[valid],
                    "churn_probability": probabilities,
                    "risk_category": categories[bands],
                    "model_version": version,
                }
            )
        )
        bad_rows.write(chunk[~valid], batch.filter(pa.array(~valid)) if batch is not None else None)
        scored += int(valid.sum())
        rejected += int((~valid).sum())
    out.close()
    bad_rows.close()
    seconds = time.perf_counter() - started
    print(json.dumps({"rows": rows, "scored": scored, "rejected": rejected, "seconds": seconds}))


def chunks(path: Path, chunk_rows: int):
    """(DataFrame, the Arrow batch it came from or None) per chunk of the input."""
    if path.suffix == ".parquet":
        for batch in pq.ParquetFile(path).iter_batches(batch_size=chunk_rows):
            yield batch.to_pandas(), batch
    else:
        for chunk in pd.read_csv(path, chunksize=chunk_rows, dtype=str, keep_default_na=False):
            yield chunk, None


class Sink:
    """A CSV (pandas, appended) or Parquet (pyarrow, one row group per write) output file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.parquet = path.suffix == ".parquet"
        self.writer: pq.ParquetWriter | None = None
        self.first = True

    def write(self, frame: pd.DataFrame, batch: pa.RecordBatch | None = None) -> None:
        if self.parquet:
            table = (
                pa.Table.from_batches([batch])
                if batch is not None
                else pa.Table.from_pandas(frame, preserve_index=False)
            )
            if self.writer is None:
                self.writer = pq.ParquetWriter(self.path, table.schema)
            if table.num_rows > 0:
                self.writer.write_table(table)
        else:
            frame.to_csv(self.path, mode="w" if self.first else "a", header=self.first, index=False)
        self.first = False

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


if __name__ == "__main__":
    main()
