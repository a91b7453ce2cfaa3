"""Code both apps share without depending on each other: image decoding and upload limits, request
parsing and the API's error shape, pagination and schema hooks. No models, no app of its own."""
