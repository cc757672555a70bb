"""Training pipeline for the ortline churn model: validate -> train -> export ONNX -> check parity -> card."""
