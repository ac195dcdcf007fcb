"""Model-card prose shared by every classifier card (training.card, training.report)."""

INTENDED_USE = """## Intended use

- Research, demos and aggregate, opt-in analytics where a human understands the error rates below.
- Every answer carries its probability (softmax(logits / T), calibrated on validation data), so callers
  can abstain below a threshold and should show or log uncertainty.

## Out of scope (do not use for)

- Any decision about an individual person: access, hiring, credit, insurance, policing, border
  control, age verification with legal effect, medical or welfare decisions, surveillance or tracking.
- Inferring anyone's gender identity or ethnic/racial identity. The model predicts the training
  data's annotation, nothing more.
- Commercial use, because of the UTKFace terms."""

ETHICAL_NOTE = """## Ethical note

Gender and ethnicity here are labels that annotators attached to photographs in one data set. They
describe that annotation, not the people in the pictures, and they do not describe how anyone sees
themselves. Age is a visual estimate with an error of several years. The model is not to be used to
make decisions about individuals. We ship probabilities with every answer precisely so that callers can
abstain when the model is unsure, and we publish where it is weak (the tables above) rather than a single
flattering number.
"""
