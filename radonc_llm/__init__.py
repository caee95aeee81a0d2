"""radonc-llm: fine-tune open LLMs on radiation-oncology records and test whether they beat the originals."""
