"""Huijia province plugin for 上海市总工会 (Shanghai, GB/T 2260 code 31).

The plugin object is the module :mod:`huijia_shanghai.plugin` (entry point ``huijia.plugins``:
``shanghai``); its pure rules live in :mod:`huijia_shanghai.rules`, its settings schema in
:mod:`huijia_shanghai.settings`.
"""
