"""Classification: every listed file as an artefact (weights, code, data, docs, licence) and the release's evidence."""
