"""HTX (formerly Huobi, Mesh `huobi`): spot orders over the v1 REST API with signature version 2."""
