"""The FastAPI peer: the churn model served the way a Python team would serve it.

FastAPI + uvicorn (uvloop, httptools), an async endpoint, a Pydantic model of the 19 churn
features (the data set's own names and categories), one onnxruntime InferenceSession per worker
process, created once at start-up, and one session.run per request. It answers the same JSON as
the gateway's v1 predict. Run as they deploy it, one worker per core:

    .venv/bin/uvicorn app:app --workers 2 --host 127.0.0.1 --port 8000 --no-access-log

Deliberate choices, none of them a handicap:
- intra_op_num_threads=1 per session: two workers on two cores; more threads per worker would
  only oversubscribe the cores (the gateway and the Fastify peer run with 1 too).
- session.run is called directly in the async endpoint, not via run_in_threadpool: a single-row
  run takes tens of microseconds, less than the thread hop would cost.
- No access log (uvicorn's is on by default): the gateway and the other peers log no requests.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Literal

import numpy as np
import onnxruntime as ort
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field

YesNo = Literal["No", "Yes"]
InternetExtra = Literal["No", "No internet service", "Yes"]


class ChurnFeatures(BaseModel):
    """One customer: the 19 raw attributes of the Telco churn data set."""

    customer_id: str | None = None
    gender: Literal["Female", "Male"]
    SeniorCitizen: int = Field(ge=0, le=1)
    Partner: YesNo
    Dependents: YesNo
    tenure: int = Field(ge=0)
    PhoneService: YesNo
    MultipleLines: Literal["No", "No phone service", "Yes"]
    InternetService: Literal["DSL", "Fiber optic", "No"]
    OnlineSecurity: InternetExtra
    OnlineBackup: InternetExtra
    DeviceProtection: InternetExtra
    TechSupport: InternetExtra
    StreamingTV: InternetExtra
    StreamingMovies: InternetExtra
    Contract: Literal["Month-to-month", "One year", "Two year"]
    PaperlessBilling: YesNo
    PaymentMethod: Literal["Bank transfer (automatic)", "Credit card (automatic)", "Electronic check", "Mailed check"]
    MonthlyCharges: float = Field(ge=0)
    # Blank in the CSV for brand-new customers; the model imputes a missing value.
    TotalCharges: float | None = Field(default=None, ge=0)


class Prediction(BaseModel):
    customer_id: str | None
    churn_probability: float
    risk_category: str
    model_version: str
    prediction_id: str


def model_dir() -> Path:
    """The model version directory: the bench passes the one the gateway serves by default."""
    if not os.environ.get("MODEL_DIR"):
        raise RuntimeError("MODEL_DIR is not set: the model version directory to serve")
    return Path(os.environ["MODEL_DIR"])


MODEL_DIR = model_dir()
CARD = json.loads((MODEL_DIR / "model.json").read_text())
MODEL_VERSION = str(CARD["version"])
OUTPUT_NAME = CARD["output"]["name"]
OUTPUT_INDEX = CARD["output"]["index"]
THRESHOLDS = [(t["max"], t["category"]) for t in CARD["risk_thresholds"]]

options = ort.SessionOptions()
options.intra_op_num_threads = 1
options.inter_op_num_threads = 1
session = ort.InferenceSession(str(MODEL_DIR / "model.onnx"), sess_options=options, providers=["CPUExecutionProvider"])
INPUTS = [(i.name, i.type) for i in session.get_inputs()]

# The Pydantic model is written by hand, as it would be; make sure it matches the model card.
_fields = set(ChurnFeatures.model_fields) - {"customer_id"}
if _fields != {f["name"] for f in CARD["features"]} or _fields != {name for name, _ in INPUTS}:
    raise RuntimeError(f"ChurnFeatures does not match {MODEL_DIR}/model.json")


def risk_category(p: float) -> str:
    for top, category in THRESHOLDS:
        if p <= top:
            return category
    return THRESHOLDS[-1][1]


@asynccontextmanager
async def lifespan(_: FastAPI):
    # One line per worker once its session is loaded: the benchmark waits for every worker. One
    # write() of the whole line: the workers share the pipe, and print() under PYTHONUNBUFFERED
    # writes the text and its newline apart, so two workers' lines could interleave into one.
    line = json.dumps({"msg": "ready", "pid": os.getpid(), "onnxruntime": ort.__version__}) + "\n"
    os.write(sys.stdout.fileno(), line.encode())
    yield


app = FastAPI(title="churn (FastAPI peer)", lifespan=lifespan)


@app.get("/healthz")
async def healthz() -> dict:
    return {"status": "ok"}


@app.post("/v1/models/{name}/predict", response_model=Prediction)
async def predict(name: str, record: ChurnFeatures) -> dict:
    if name != CARD["name"]:
        raise HTTPException(status_code=404, detail=f"unknown model {name!r}")
    values = record.model_dump()
    feeds = {}
    for input_name, input_type in INPUTS:
        v = values[input_name]
        if input_type == "tensor(string)":
            feeds[input_name] = np.array([[v]], dtype=object)
        else:
            feeds[input_name] = np.array([[np.nan if v is None else v]], dtype=np.float32)
    probabilities = session.run([OUTPUT_NAME], feeds)[0]
    p = float(probabilities[0, OUTPUT_INDEX])
    return {
        "customer_id": record.customer_id,
        "churn_probability": p,
        "risk_category": risk_category(p),
        "model_version": MODEL_VERSION,
        "prediction_id": str(uuid.uuid4()),
    }


if __name__ == "__main__":
    print("run with: uvicorn app:app --workers 2", file=sys.stderr)
    sys.exit(2)
