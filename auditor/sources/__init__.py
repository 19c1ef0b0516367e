"""Where audited repositories come from: the Hub (hub.HubSource) or a local checkout (local.LocalSource).

Both implement interface.RepoSource and share selection (which files are read, under which
caps) and texts (decoding). Import the source you need from its module: the Hub one pulls in
huggingface_hub, which a local audit does not need.
"""
