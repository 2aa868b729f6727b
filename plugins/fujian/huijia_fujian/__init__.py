"""Huijia province plugin for 福建省总工会 (Fujian, GB/T 2260 code 35).

The plugin object is the module :mod:`huijia_fujian.plugin` (entry point ``huijia.plugins``:
``fujian``); its pure rules live in :mod:`huijia_fujian.rules`, its settings schema in
:mod:`huijia_fujian.settings`.
"""
